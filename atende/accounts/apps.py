from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "atende.accounts"
    label = "accounts"
