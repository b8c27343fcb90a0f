"""Webhook subscriptions (their deliveries are rows of the outbound engine); links from imported records to their source ids; privacy log."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.core.models import BaseModel
from atende.integrations.choices import PrivacyAction


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
