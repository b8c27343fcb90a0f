from django.db import models
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    GATEWAY = "gateway", _("Gateway (messaging API)")


class Direction(models.TextChoices):
    INBOUND = "in", _("From the customer")
    OUTBOUND = "out", _("To the customer")


class DeliveryState(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")


# A receipt never moves a message backwards (a late "delivered" after "read" changes nothing).
DELIVERY_ORDER = {DeliveryState.QUEUED: 0, DeliveryState.SENT: 1, DeliveryState.DELIVERED: 2, DeliveryState.READ: 3,
                  DeliveryState.FAILED: 4, DeliveryState.RECEIVED: 0}


class WebhookOutcome(models.TextChoices):
    PROCESSED = "processed", _("Processed")
    DUPLICATE = "duplicate", _("Duplicate (already received)")
    IGNORED = "ignored", _("Nothing to do")
    UNAUTHORIZED = "unauthorized", _("No signature")
    FORBIDDEN = "forbidden", _("Wrong signature")
    MALFORMED = "malformed", _("Malformed payload")
