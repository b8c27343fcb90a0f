"""Chat widgets (one per site that embeds chat) and conversations.

A conversation's messages with people are the ticket's public replies, so the transcript *is* the ticket's
timeline. Turns with the bot before a handover live on the conversation (``bot_turns``): a conversation the bot
solves never becomes a ticket, and its transcript stays here.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from atende.chat.choices import ChatOutcome, ChatStatus, OfflineMode, WidgetLanguage, WidgetPosition
from atende.core.models import BaseModel

colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("A colour like #1f6feb."))


def new_widget_key() -> str:
    return secrets.token_urlsafe(12)


def new_widget_secret() -> str:
    return secrets.token_urlsafe(32)


class Widget(BaseModel):
    """What a site embeds: ``<script src="…/chat/widget.js" data-widget="KEY" async></script>``."""

    name = models.CharField(_("name"), max_length=100)
    key = models.CharField(_("key"), max_length=40, unique=True, default=new_widget_key, editable=False)
    secret = models.CharField(_("identity secret"), max_length=64, default=new_widget_secret, editable=False,
                              help_text=_("Signs Atende.identify(): HMAC-SHA256 of the email with this secret."))
    allowed_origins = models.TextField(
        _("allowed origins"), blank=True,
        help_text=_("One per line, e.g. https://www.example.com. Pages elsewhere cannot use the widget."))
    is_active = models.BooleanField(_("active"), default=True)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="chat_widgets", verbose_name=_("team routed to"))
    primary_color = models.CharField(_("colour"), max_length=7, default="#1f6feb", validators=[colour])
    text_color = models.CharField(_("text colour on the colour"), max_length=7, default="#ffffff",
                                  validators=[colour])
    position = models.CharField(_("position"), max_length=10, choices=WidgetPosition.choices,
                                default=WidgetPosition.RIGHT)
    greeting = models.CharField(_("greeting"), max_length=300, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=WidgetLanguage.choices,
                                default=WidgetLanguage.AUTO)
    ask_name = models.BooleanField(_("pre-chat form asks the name"), default=True)
    ask_email = models.BooleanField(_("pre-chat form asks the email"), default=True)
    email_required = models.BooleanField(_("email is required"), default=False)
    bot_enabled = models.BooleanField(_("the bot answers first"), default=True)
    offline_mode = models.CharField(_("when nobody is online"), max_length=10, choices=OfflineMode.choices,
                                    default=OfflineMode.FORM)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("chat widget")
        verbose_name_plural = _("chat widgets")

    def __str__(self) -> str:
        return self.name

    @property
    def origins(self) -> list[str]:
        return [line.strip().rstrip("/").lower() for line in self.allowed_origins.splitlines() if line.strip()]

    def allows_origin(self, origin: str | None, *, own_host: str = "") -> bool:
        """Pages on the allow-list may embed the widget; so may the desk's own pages (``own_host``: the Host the
        request came to, e.g. the demo page)."""
        if not origin:
            return False
        origin = origin.strip().rstrip("/").lower()
        return origin in self.origins or bool(own_host) and origin.split("://", 1)[-1] == own_host.lower()


class ChatSession(BaseModel):
    """One visitor's conversation through a widget."""

    widget = models.ForeignKey(Widget, on_delete=models.CASCADE, related_name="sessions")
    visitor_id = models.CharField(max_length=40, unique=True)  # the signed visitor token's subject
    status = models.CharField(max_length=10, choices=ChatStatus.choices, default=ChatStatus.BOT)
    outcome = models.CharField(max_length=20, choices=ChatOutcome.choices, blank=True)
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="chat_sessions")
    identified = models.BooleanField(default=False)  # the host site vouched for the email (identify signature)
    ticket = models.OneToOneField("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="chat_session")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="chat_sessions")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="chats_handled")
    offered_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="chats_offered")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    question = models.TextField(blank=True)
    language = models.CharField(max_length=10, blank=True)
    page_url = models.URLField(max_length=1000, blank=True)
    bot_turns = models.JSONField(default=list, blank=True)  # [{"id", "from": visitor|bot, "text", "articles", "at"}]
    queued_at = models.DateTimeField(null=True, blank=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    transcript_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("chat conversation")
        verbose_name_plural = _("chat conversations")
        indexes = [
            models.Index(fields=["status", "team", "queued_at"], name="chat_queue"),
            models.Index(fields=["agent", "status"], name="chat_agent_load"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(status="active") | Q(agent__isnull=False), name="chat_active_has_agent"),
        ]

    def __str__(self) -> str:
        return f"chat {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status != ChatStatus.ENDED


class ChatAgentSetting(models.Model):
    """An agent's chat capacity (how many conversations at once); agents without a row use the default."""

    agent = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_setting")
    max_chats = models.PositiveSmallIntegerField(_("chats at once"), default=3)

    class Meta:
        verbose_name = _("agent chat capacity")
        verbose_name_plural = _("agent chat capacities")

    def __str__(self) -> str:
        return f"{self.agent} ({self.max_chats})"
