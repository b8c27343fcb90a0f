"""Webhook subscriptions and their delivery log; links from imported records to their source ids; privacy log."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.core.models import BaseModel
from atende.integrations.choices import DeliveryStatus, PrivacyAction


class WebhookSubscription(BaseModel):
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=100)
    event_types = models.JSONField(_("events"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    disabled_reason = models.CharField(_("why it was disabled"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return self.is_active and ("*" in self.event_types or event_type in self.event_types)


class WebhookDelivery(models.Model):
    """One event sent (or to be sent) to one URL, with its retries. Deliveries are unique per event."""

    subscription = models.ForeignKey(WebhookSubscription, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="deliveries")
    url = models.URLField(max_length=500)
    adhoc_secret = models.CharField(max_length=100, blank=True)  # automation's one-off calls have no subscription
    event_id = models.BigIntegerField(null=True, blank=True)
    event_type = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_id"], condition=Q(event_id__isnull=False),
                                    name="webhook_delivery_once_per_event"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_sub_created"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.url}"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=1000, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class ExternalRecord(models.Model):
    """Which Atende row an imported record became, so importing the same data again changes nothing."""

    system = models.CharField(max_length=40)  # "zendesk", "csv", "atende"
    kind = models.CharField(max_length=20)  # "ticket", "user", "organization", "message"
    external_id = models.CharField(max_length=200)
    object_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["system", "kind", "external_id"],
                                               name="external_record_unique")]

    def __str__(self) -> str:
        return f"{self.system}:{self.kind}:{self.external_id} → {self.object_id}"


class PrivacyRequest(models.Model):
    """The audit row of a data export or erasure: who asked, for whom, when, and what was done."""

    action = models.CharField(max_length=10, choices=PrivacyAction.choices)
    subject_user_id = models.BigIntegerField()
    subject_email = models.CharField(max_length=254, blank=True)  # as it was before an erasure: "erased" rows
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    summary = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} of user {self.subject_user_id}"
