from django.apps import AppConfig


class RulesConfig(AppConfig):
    """No models: an app only so that its templates (the settings-page base) are found."""

    name = "atende.rules"
    label = "rules"
