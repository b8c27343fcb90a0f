from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "atende.core"
    label = "core"
