from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "atende.integrations"
    label = "integrations"
