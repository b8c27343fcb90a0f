from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "atende.console"
    label = "console"

    def ready(self) -> None:
        from atende.console.options import connect

        connect()
