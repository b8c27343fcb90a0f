from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "atende.portal"
    label = "portal"
