from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "atende.console"
    label = "console"
