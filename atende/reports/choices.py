from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportFrequency(models.TextChoices):
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every week")


class ReportPeriod(models.TextChoices):
    """Keys of ``selectors.PERIODS``."""

    LAST_7_DAYS = "7d", _("Last 7 days")
    LAST_30_DAYS = "30d", _("Last 30 days")
    LAST_90_DAYS = "90d", _("Last 90 days")
    LAST_YEAR = "365d", _("Last year")

WEEKDAYS = [(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")), (4, _("Friday")),
            (5, _("Saturday")), (6, _("Sunday"))]
