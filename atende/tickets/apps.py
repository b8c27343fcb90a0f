from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "atende.tickets"
    label = "tickets"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from atende.tickets.models import CustomField
        from atende.tickets.selectors import custom_fields_changed

        post_save.connect(custom_fields_changed, sender=CustomField, dispatch_uid="custom-fields-save")
        post_delete.connect(custom_fields_changed, sender=CustomField, dispatch_uid="custom-fields-delete")
