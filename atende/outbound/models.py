"""A delivery is one message to one target through one transport; each try is a DeliveryAttempt row."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.outbound.choices import FINAL_STATUSES, AttemptOutcome, DeliveryStatus


class Delivery(models.Model):
    transport = models.CharField(_("transport"), max_length=30)  # a name in settings.OUTBOUND_TRANSPORTS
    target = models.CharField(_("to"), max_length=500)  # URL, recipients, chat id: what an admin recognises
    payload = models.JSONField(default=dict)  # everything the transport needs to send it, as plain JSON
    # Idempotency: enqueueing a key that exists returns that row ("<event id>:<subscriber>:<recipient>").
    key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    # Who queued it, for the pages that list them: "webhook:<id>", "notification", "automation", "report".
    source = models.CharField(max_length=60, blank=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=40, blank=True)  # notification kind, webhook event type
    ticket_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    event_id = models.BigIntegerField(null=True, blank=True)
    # The id the far side knows it by: the Message-ID a mail is sent with, a messaging app's message id.
    external_id = models.CharField(max_length=998, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveIntegerField(default=6)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)  # a worker holds it until then while sending
    lease_token = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outbound delivery")
        verbose_name_plural = _("outbound deliveries")
        indexes = [
            models.Index(fields=["next_attempt_at"], name="outbound_delivery_due",
                         condition=Q(status__in=["pending", "failed"])),
            models.Index(fields=["lease_until"], name="outbound_delivery_leased", condition=Q(status="sending")),
            models.Index(fields=["source", "-created_at"], name="outbound_delivery_source"),
        ]

    def __str__(self) -> str:
        return f"{self.transport} → {self.target} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=AttemptOutcome.choices)
    error = models.TextField(blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=1000, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["delivery_id", "number", "id"]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.outcome == AttemptOutcome.SENT
