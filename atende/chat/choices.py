from django.db import models
from django.utils.translation import gettext_lazy as _


class ChatStatus(models.TextChoices):
    BOT = "bot", _("With the bot")
    QUEUED = "queued", _("Waiting for an agent")
    ACTIVE = "active", _("With an agent")
    ENDED = "ended", _("Ended")


class ChatOutcome(models.TextChoices):
    """How a conversation ended (empty while it goes on)."""

    SOLVED_BY_BOT = "solved_by_bot", _("Solved by the bot")
    ENDED_BY_AGENT = "ended_by_agent", _("Ended by the agent")
    ENDED_BY_VISITOR = "ended_by_visitor", _("Ended by the visitor")
    OFFLINE_FORM = "offline_form", _("Left as an offline request")


class WidgetPosition(models.TextChoices):
    RIGHT = "right", _("Bottom right")
    LEFT = "left", _("Bottom left")


class WidgetLanguage(models.TextChoices):
    AUTO = "auto", _("The visitor's browser language")
    EN = "en", _("English")
    PT_BR = "pt-br", _("Portuguese (Brazil)")


class OfflineMode(models.TextChoices):
    FORM = "form", _("Show the offline form (a ticket answered by email)")
    HIDE = "hide", _("Hide the widget")


# Pre-chat form fields an admin may ask for (the question is always asked).
PRECHAT_FIELDS = ("name", "email")
