from django.db import models
from django.utils.translation import gettext_lazy as _


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class ArticleVisibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal (agents only)")


class ArticleLanguage(models.TextChoices):
    EN = "en", _("English")
    PT_BR = "pt-br", _("Brazilian Portuguese")


class DeflectionOutcome(models.TextChoices):
    PENDING = "pending", _("Pending")  # article opened from a suggestion; the request form is still open
    DEFLECTED = "deflected", _("Deflected")  # the customer left without submitting
    SUBMITTED = "submitted", _("Submitted anyway")  # a request was submitted in the same session
