from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "atende.core"
    label = "core"

    def ready(self) -> None:
        from atende.core import checks  # noqa: F401 - registers the start-up checks; models must be loaded first
