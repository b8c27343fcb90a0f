from django.apps import AppConfig


class EmailChannelConfig(AppConfig):
    name = "atende.email_channel"
    label = "email_channel"
