from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    GIVEN_UP = "given_up", _("Given up")
    BOUNCED = "bounced", _("Bounced")
    CANCELLED = "cancelled", _("Cancelled")


# A row in one of these is never sent again by the engine.
FINAL_STATUSES = (DeliveryStatus.SENT, DeliveryStatus.GIVEN_UP, DeliveryStatus.BOUNCED, DeliveryStatus.CANCELLED)
# Waiting for the next attempt (``next_attempt_at``; NULL while held, e.g. its webhook is disabled).
WAITING_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


class AttemptOutcome(models.TextChoices):
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    LOST = "lost", _("No result (the worker stopped)")
