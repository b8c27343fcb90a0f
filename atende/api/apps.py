from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "atende.api"
    label = "api"
