from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboundConfig(AppConfig):
    name = "atende.outbound"
    label = "outbound"
    verbose_name = _("Outbound deliveries")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every configured transport is imported now, so a broken one stops start-up instead of leaving a
        # channel silently unsent.
        from atende.outbound.transports import transports_load

        transports_load()
