from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "atende.automation"
    label = "automation"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from atende.automation.models import Macro
        from atende.automation.selectors import macros_changed

        post_save.connect(macros_changed, sender=Macro, dispatch_uid="macro-menu-save")
        post_delete.connect(macros_changed, sender=Macro, dispatch_uid="macro-menu-delete")
