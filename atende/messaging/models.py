from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.core.models import BaseModel
from atende.messaging.choices import DeliveryState, Direction, Platform, WebhookOutcome


class ConversationMessage(models.Model):
    """One message exchanged on a messaging platform, tied to the ticket message it became (or came from).
    Deduplicates re-posted webhooks (unique per platform, direction and platform id) and carries the delivery
    state that the platform's receipts update."""

    platform = models.CharField(max_length=12, choices=Platform.choices)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    external_id = models.CharField(_("platform message id"), max_length=255, blank=True)
    address = models.CharField(_("chat or phone"), max_length=64)
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey("tickets.Message", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    state = models.CharField(max_length=10, choices=DeliveryState.choices, default=DeliveryState.RECEIVED)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "direction", "external_id"],
                                               condition=~Q(external_id=""), name="conversation_message_unique"),
                       # one delivery row per reply, so a retried send never sends twice
                       models.UniqueConstraint(fields=["message", "direction"], condition=Q(message__isnull=False),
                                               name="conversation_message_once")]
        indexes = [models.Index(fields=["platform", "address", "-created_at"], name="conversation_address"),
                   models.Index(fields=["ticket", "direction", "-created_at"], name="conversation_ticket")]

    def __str__(self) -> str:
        return f"{self.platform}:{self.direction}:{self.external_id}"


class InboundWebhook(models.Model):
    """Every webhook call, kept for an admin: refused ones (no or wrong signature) and malformed ones with the raw
    body and the reason, so nothing that arrived is lost without a trace."""

    platform = models.CharField(max_length=12, choices=Platform.choices)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    outcome = models.CharField(max_length=12, choices=WebhookOutcome.choices)
    reason = models.CharField(max_length=500, blank=True)
    body = models.TextField(blank=True)
    remote_ip = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("inbound webhook")

    def __str__(self) -> str:
        return f"{self.platform} {self.outcome} {self.received_at:%Y-%m-%d %H:%M}"


class WhatsAppTemplate(BaseModel):
    """A message template approved by WhatsApp, offered to agents outside the 24-hour customer-service window."""

    name = models.CharField(_("template name"), max_length=512)
    language = models.CharField(_("language code"), max_length=15, default="en")
    body = models.TextField(_("text (as approved, {{1}} for the parameter)"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "language"], name="whatsapp_template_unique")]
        verbose_name = _("WhatsApp template")

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"
