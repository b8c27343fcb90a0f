from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "atende.automation"
    label = "automation"
