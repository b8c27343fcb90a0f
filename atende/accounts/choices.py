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
