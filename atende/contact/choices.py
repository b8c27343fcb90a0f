from django.db import models
from django.utils.translation import gettext_lazy as _


class ContactFormMode(models.TextChoices):
    OPEN = "open", _("Open to everyone (email or phone)")
    VERIFIED = "verified", _("Only addresses already verified")
    ACCOUNT = "account", _("Require a portal account (send visitors to the portal's request form)")
    OFF = "off", _("Off")
