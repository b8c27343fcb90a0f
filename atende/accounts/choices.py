from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    AGENT = "agent", _("Agent")
    COLLABORATOR = "collaborator", _("Collaborator")
    CUSTOMER = "customer", _("Customer")


STAFF_ROLES = frozenset({Role.ADMIN, Role.AGENT, Role.COLLABORATOR})


class Availability(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class Locale(models.TextChoices):
    EN = "en", _("English")
    PT_BR = "pt-br", _("Brazilian Portuguese")


class IdentityKind(models.TextChoices):
    """How a customer can be reached or recognised."""

    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    CHAT = "chat", _("Chat visitor")


class CustomerEventType(models.TextChoices):
    IDENTITY_ADDED = "IDENTITY_ADDED", _("Identity added")
    IDENTITY_REMOVED = "IDENTITY_REMOVED", _("Identity removed")
    MERGED_FROM = "MERGED_FROM", _("Customer merged in")
