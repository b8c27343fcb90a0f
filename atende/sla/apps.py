from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "atende.sla"
    label = "sla"
