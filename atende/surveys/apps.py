from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "atende.surveys"
    label = "surveys"
