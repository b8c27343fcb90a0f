"""Business calendars, SLA policies and the per-ticket SLA clocks."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from atende.core.models import BaseModel
from atende.sla.business_time import CalendarSpec, format_hhmm
from atende.sla.choices import WEEKDAYS, ClockState, SlaMetric


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone %(tz)s."), params={"tz": value})


class BusinessCalendar(BaseModel):
    """Opening hours in a time zone, with holidays. Teams use one; SLA policies in business time count on it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_time_zone])
    is_default = models.BooleanField(_("default calendar"), default=False,
                                     help_text=_("Used by teams without a calendar of their own."))
    teams = models.ManyToManyField("accounts.Team", through="CalendarTeam", blank=True, related_name="+",
                                   verbose_name=_("teams"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True),
                                               name="calendar_single_default")]

    def __str__(self) -> str:
        return self.name

    def spec(self) -> CalendarSpec:
        """The immutable arithmetic view (hours and holidays loaded once)."""
        hours: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for row in self.hours.all():
            hours[row.weekday].append((row.start_minute, row.end_minute))
        holidays = list(self.holidays.all())
        return CalendarSpec(
            time_zone=self.time_zone, hours=tuple(tuple(sorted(h)) for h in hours),
            holidays=frozenset(h.date for h in holidays if not h.yearly),
            yearly_holidays=frozenset((h.date.month, h.date.day) for h in holidays if h.yearly),
        )


class CalendarTeam(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE)
    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="business_calendar_link")

    def __str__(self) -> str:
        return f"{self.team_id} → {self.calendar_id}"


class BusinessHours(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAYS)
    start_minute = models.PositiveSmallIntegerField(_("opens (minutes after midnight)"))
    end_minute = models.PositiveSmallIntegerField(_("closes (minutes after midnight, up to 1440)"))

    class Meta:
        ordering = ["weekday", "start_minute"]
        constraints = [models.CheckConstraint(condition=Q(start_minute__lt=models.F("end_minute"), end_minute__lte=1440),
                                              name="business_hours_valid_interval")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {format_hhmm(self.start_minute)}–{format_hhmm(self.end_minute)}"


class Holiday(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    yearly = models.BooleanField(_("every year"), default=False)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique_date")]

    def __str__(self) -> str:
        return f"{self.date:%m-%d}" if self.yearly else self.date.isoformat()


class SlaPolicy(BaseModel):
    """Targets for first reply, next reply and resolution; the first active policy whose conditions match applies."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0, db_index=True)
    is_active = models.BooleanField(_("active"), default=True)
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    first_reply_minutes = models.PositiveIntegerField(_("first reply within (minutes)"), null=True, blank=True)
    next_reply_minutes = models.PositiveIntegerField(_("next reply within (minutes)"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("resolve within (minutes)"), null=True, blank=True)
    business_hours = models.BooleanField(_("count business hours only"), default=True)
    calendar = models.ForeignKey(BusinessCalendar, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="policies", verbose_name=_("calendar"),
                                 help_text=_("Empty: the ticket team's calendar, else the default calendar."))
    warn_before_minutes = models.PositiveIntegerField(_("warn this many minutes before a breach"), default=30)
    warning_actions = models.JSONField(_("actions on warning"), default=list, blank=True)
    breach_actions = models.JSONField(_("actions on breach"), default=list, blank=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name

    def target_minutes(self, metric: str) -> int | None:
        return getattr(self, f"{metric}_minutes")


class SlaClock(models.Model):
    """One SLA target running on one ticket. Due and warning times are indexed: the minute job reads only those due.

    ``consumed`` is the (business or calendar) time spent before the current running segment, so a paused clock
    resumes with exactly the time it had left and a policy change recomputes the due time from the same start.
    """

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_clocks")
    policy = models.ForeignKey(SlaPolicy, null=True, on_delete=models.SET_NULL, related_name="+")
    metric = models.CharField(_("target"), max_length=20, choices=SlaMetric.choices)
    state = models.CharField(_("state"), max_length=12, choices=ClockState.choices, default=ClockState.RUNNING)
    cycle = models.PositiveIntegerField(default=1)  # next-reply clocks: one per customer message
    target_minutes = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    segment_started_at = models.DateTimeField(null=True, blank=True)
    consumed = models.DurationField(default=dt.timedelta(0))
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["ticket_id", "metric", "cycle"]
        indexes = [
            models.Index(fields=["due_at"], name="sla_clock_due", condition=Q(state="running", breached_at=None)),
            models.Index(fields=["warn_at"], name="sla_clock_warn", condition=Q(state="running", warned_at=None)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "metric", "cycle"], name="sla_clock_unique_cycle"),
            models.UniqueConstraint(fields=["ticket", "metric"], condition=Q(state__in=["running", "paused"]),
                                    name="sla_clock_one_active_per_metric"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} on ticket {self.ticket_id} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in (ClockState.RUNNING, ClockState.PAUSED)

    @property
    def achieved(self) -> bool | None:
        if self.state != ClockState.FULFILLED:
            return None
        return self.breached_at is None
