from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "atende.kb"
    label = "kb"
