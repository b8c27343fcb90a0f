"""Mailboxes, the durable inbound store (raw bytes before processing), the outbound queue and its attempts,
notification templates and the channel's settings."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atende.core.models import BaseModel
from atende.email_channel.choices import (
    AfterStore,
    AuthMethod,
    InboundSource,
    InboundStatus,
    NonParticipantPolicy,
    NotificationKind,
    SenderRuleKind,
    TlsMode,
)


class EmailSettings(models.Model):
    """Channel-wide rules set by the admin (one row)."""

    non_participant_policy = models.CharField(
        _("when someone outside the ticket replies"), max_length=20, choices=NonParticipantPolicy.choices,
        default=NonParticipantPolicy.ADD_CC,
        help_text=_("A reply to a ticket's thread from an address that is neither the requester nor a CC. "
                    "Each mailbox can override this."),
    )
    subject_threading_hours = models.PositiveIntegerField(
        _("thread replies by subject within (hours)"), default=168,
        help_text=_("A reply whose earlier message never reached us joins the sender's ticket with the same "
                    "subject (ignoring Re:, Fwd:, AW:… and list tags) if that ticket changed within this many "
                    "hours. 0 turns it off."),
    )
    rate_limit_per_hour = models.PositiveIntegerField(
        _("messages accepted per sender per hour"), default=30,
        help_text=_("Beyond this, a sender's mail is quarantined (mail storms, loops). 0 disables the limit."),
    )
    only_allowed_senders = models.BooleanField(
        _("accept mail only from allowed senders"), default=False,
        help_text=_("Quarantine mail from senders that match no allow rule."),
    )
    send_acknowledgements = models.BooleanField(_("acknowledge new requests by email"), default=True)
    strip_quoted_replies = models.BooleanField(_("strip quoted history and signatures from replies"), default=True)

    class Meta:
        verbose_name = _("email settings")
        verbose_name_plural = _("email settings")

    def __str__(self) -> str:
        return str(_("Email settings"))

    @classmethod
    def load(cls) -> EmailSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class Mailbox(BaseModel):
    """An address customers write to; fetched over IMAP when a host is set (else fed by the listener/import)."""

    name = models.CharField(_("name"), max_length=100)
    address = models.EmailField(_("address"), unique=True)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="mailboxes", verbose_name=_("team"))
    is_active = models.BooleanField(_("active"), default=True)
    imap_host = models.CharField(_("IMAP host"), max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    tls = models.CharField(_("TLS"), max_length=10, choices=TlsMode.choices, default=TlsMode.SSL)
    auth_method = models.CharField(_("authentication"), max_length=10, choices=AuthMethod.choices,
                                   default=AuthMethod.PASSWORD)
    username = models.CharField(_("user"), max_length=255, blank=True)
    password = models.CharField(_("password"), max_length=255, blank=True)
    oauth2_token = models.TextField(_("OAuth2 access token"), blank=True)
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    after_store = models.CharField(_("after storing a message"), max_length=10, choices=AfterStore.choices,
                                   default=AfterStore.MARK_SEEN)
    move_to_folder = models.CharField(_("move to folder"), max_length=255, blank=True, default="Processed")
    use_idle = models.BooleanField(_("use IMAP IDLE when the server offers it"), default=True)
    non_participant_policy = models.CharField(
        _("when someone outside the ticket replies"), max_length=20, blank=True,
        choices=[("", _("As in the email settings")), *NonParticipantPolicy.choices],
    )
    last_fetch_at = models.DateTimeField(_("last fetch"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    @property
    def is_fetched(self) -> bool:
        return bool(self.is_active and self.imap_host)

    def participant_policy(self, config: EmailSettings) -> str:
        return self.non_participant_policy or config.non_participant_policy


class SenderRule(BaseModel):
    """Block or allow a sender: a full address (``someone@example.com``) or a whole domain (``example.com``)."""

    kind = models.CharField(_("rule"), max_length=10, choices=SenderRuleKind.choices)
    pattern = models.CharField(_("address or domain"), max_length=255)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["kind", "pattern"]
        verbose_name = _("sender rule")
        verbose_name_plural = _("sender rules")
        constraints = [models.UniqueConstraint(fields=["kind", "pattern"], name="sender_rule_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.pattern}"

    def matches(self, address: str) -> bool:
        address = address.lower()
        pattern = self.pattern.strip().lower().lstrip("@")
        return address == pattern if "@" in pattern else address.rsplit("@", 1)[-1] == pattern


class InboundMessage(models.Model):
    """One received message, stored raw (with its SHA-256) before anything else happens to it."""

    sha256 = models.CharField(max_length=64, unique=True)
    raw = models.BinaryField()
    size = models.PositiveIntegerField(default=0)
    source = models.CharField(_("source"), max_length=10, choices=InboundSource.choices)
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound")
    envelope_from = models.CharField(max_length=998, blank=True)
    envelope_to = models.JSONField(default=list, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=998, blank=True, db_index=True)
    sender = models.CharField(_("sender"), max_length=320, blank=True, db_index=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=InboundStatus.choices, default=InboundStatus.PENDING)
    reason = models.CharField(_("reason"), max_length=40, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    ticket_id = models.BigIntegerField(null=True, blank=True)
    ticket_message_id = models.BigIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_status_received"),
            models.Index(fields=["sender", "received_at"], name="inbound_sender_received"),
        ]

    def __str__(self) -> str:
        return f"{self.sender or '?'}: {self.subject or '(no subject)'}"

    @property
    def is_quarantined(self) -> bool:
        return self.status == InboundStatus.QUARANTINED

    @property
    def raw_bytes(self) -> bytes:
        return bytes(self.raw)


class NotificationTemplate(BaseModel):
    """An email an event sends, per language. Subject and body are Django templates (see docs/email.md)."""

    kind = models.CharField(_("notification"), max_length=30, choices=NotificationKind.choices)
    language = models.CharField(_("language"), max_length=10, choices=[("en", "English"), ("pt-br", "Português")])
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    is_active = models.BooleanField(_("send this notification"), default=True)

    class Meta:
        ordering = ["kind", "language"]
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        constraints = [models.UniqueConstraint(fields=["kind", "language"], name="notification_template_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language})"


class UndeliverableAddress(models.Model):
    """An address our mail cannot reach (a permanent bounce) or whose owner reported it as spam (a complaint):
    no notification is sent to it until an administrator clears it (deletes the row)."""

    address = models.EmailField(_("address"), max_length=320, unique=True)
    kind = models.CharField(_("why"), max_length=10, choices=[("hard", _("permanent bounce")),
                                                              ("complaint", _("spam complaint"))])
    reason = models.TextField(_("report"), blank=True)  # the diagnostic the report gave
    bounces = models.PositiveIntegerField(_("reports"), default=1)
    first_reported_at = models.DateTimeField(_("first reported"), default=timezone.now)
    last_reported_at = models.DateTimeField(_("last reported"), default=timezone.now)
    ticket_id = models.BigIntegerField(null=True, blank=True)  # the ticket whose mail bounced last, if any

    class Meta:
        ordering = ["-last_reported_at"]
        verbose_name = _("undeliverable address")
        verbose_name_plural = _("undeliverable addresses")

    def __str__(self) -> str:
        return self.address
