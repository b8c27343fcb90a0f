from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "atende.reports"
    label = "reports"
