"""Summary tables (rollups) the dashboard reads instead of aggregating the ticket table, and their bookkeeping.

Every rollup row is a pure function of the ticket table for its bucket: ``services.rollups_recompute_*`` deletes a
bucket's rows and inserts them again from the tickets of that bucket, so a recompute is idempotent and a rebuild
from scratch gives the same rows (docs/reports.md, "Summary tables"). Spam is never counted.

Team, category, tag and assignee are foreign keys *without* database constraints and ``DO_NOTHING``: deleting a
team sets its tickets' team to NULL without a ticket event, so the rows may hold an id that no longer exists. The
selectors read such an id as "no team" (exactly what ``SET_NULL`` did to the tickets), and drop deleted tags.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from atende.core.models import BaseModel
from atende.reports.choices import WEEKDAYS, ReportFrequency, ReportPeriod
from atende.reports.expressions import DURATION_BINS
from atende.tickets.choices import Channel, TicketPriority, TicketStatus
from atende.tickets.states import UNSOLVED_STATUSES


def _ref(model: str, **kwargs) -> models.ForeignKey:
    return models.ForeignKey(model, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", **kwargs)


class TicketMeasures(models.Model):
    """What ``HourStats`` and ``DayStats`` count for their bucket: the created side (counts and the inputs of the
    averages; the SLA targets of those tickets, from their SLA clocks) and the solved side. Summed across rows,
    they add up like the live queries."""

    created = models.IntegerField(default=0)
    responded = models.IntegerField(default=0)
    first_response_seconds = models.BigIntegerField(default=0)
    reopened = models.IntegerField(default=0)
    first_reply_met = models.IntegerField(default=0)
    first_reply_decided = models.IntegerField(default=0)
    next_reply_met = models.IntegerField(default=0)
    next_reply_decided = models.IntegerField(default=0)
    resolution_met = models.IntegerField(default=0)
    resolution_decided = models.IntegerField(default=0)
    solved = models.IntegerField(default=0)
    resolution_seconds = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class HourStats(TicketMeasures):
    """Per UTC hour, team and channel: what was created in that hour and what was solved in it.

    Created side (tickets with ``created_at`` in the hour): counts and the inputs of the averages and SLA shares.
    SLA "decided" counts are as of ``computed_at``; ``sla_next_due_at`` is the earliest due time of those tickets'
    SLA clocks that were still running then, so a reader knows when the row stops being current (a target passing its due time
    changes the figure without any ticket event) and computes that hour from the tickets instead.
    Solved side (tickets solved or closed with ``solved_at`` in the hour): count and the input of the average.
    """

    hour = models.DateTimeField()
    team = _ref("accounts.Team", null=True)
    channel = models.CharField(max_length=20)
    sla_next_due_at = models.DateTimeField(null=True)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hour", "team", "channel"], name="report_hour_unique")]
        indexes = [models.Index(fields=["sla_next_due_at"], name="report_hour_sla_due",
                                condition=models.Q(sla_next_due_at__isnull=False))]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h team {self.team_id} {self.channel}"


class DayStats(TicketMeasures):
    """``HourStats`` summed per UTC day, team and channel (the day's hours, recomputed right after them), so a year
    reads a few thousand rows. A day is read only where it lies inside one bucket of the report and none of its
    hours is out of date (``HourStats.sla_next_due_at``); otherwise its hours are."""

    day = models.DateField()
    team = _ref("accounts.Team", null=True)
    channel = models.CharField(max_length=20)

    class Meta:
        indexes = [models.Index(fields=["day"], name="report_day")]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_id} {self.channel}"


class DayDurationStats(models.Model):
    """Per UTC day, team and channel, histograms of first-response and resolution times (the medians, PostgreSQL
    only): ``first_response_bNN`` counts the tickets created that day whose first response took a time in bin NN,
    ``resolution_bNN`` the tickets solved that day (bins: ``expressions.DURATION_BINS``). One column per bin, so
    a year of them is summed in one pass over a few thousand rows."""

    day = models.DateField()
    team = _ref("accounts.Team", null=True)
    channel = models.CharField(max_length=20)

    class Meta:
        indexes = [models.Index(fields=["day"], name="report_day_duration")]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_id} {self.channel}"


def bin_fields(prefix: str) -> list[str]:
    return [f"{prefix}_b{k:02d}" for k in range(DURATION_BINS)]


for _name in [*bin_fields("first_response"), *bin_fields("resolution")]:
    DayDurationStats.add_to_class(_name, models.IntegerField(default=0, db_default=0))


class DayCategoryStats(models.Model):
    """Tickets created per UTC day, team, channel and category (the "top categories" table)."""

    day = models.DateField()
    team = _ref("accounts.Team", null=True)
    channel = models.CharField(max_length=20)
    category = _ref("tickets.Category", null=True)
    created = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day"], name="report_day_category")]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_id} {self.channel} category {self.category_id}"


class DayTagStats(models.Model):
    """Tickets created per UTC day, team, channel and tag (the "top tags" table)."""

    day = models.DateField()
    team = _ref("accounts.Team", null=True)
    channel = models.CharField(max_length=20)
    tag = _ref("tickets.Tag")
    created = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day"], name="report_day_tag")]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_id} {self.channel} tag {self.tag_id}"


class DayAgentStats(models.Model):
    """Per UTC day, team, channel and current assignee: first responses of the tickets created that day, and the
    tickets solved that day (the "by agent" table), and a histogram of those first responses like
    ``DayDurationStats``."""

    day = models.DateField()
    team = _ref("accounts.Team", null=True)
    channel = models.CharField(max_length=20)
    assignee = _ref(settings.AUTH_USER_MODEL)
    responded = models.IntegerField(default=0)
    first_response_seconds = models.BigIntegerField(default=0)
    solved = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day"], name="report_day_agent")]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_id} {self.channel} agent {self.assignee_id}"


for _name in bin_fields("first_response"):  # the agents' median first response (PostgreSQL only)
    DayAgentStats.add_to_class(_name, models.IntegerField(default=0, db_default=0))


class DayBacklog(models.Model):
    """Tickets unsolved *now*, per UTC day of creation, team and channel, counted by status (``status_<s>``) and
    by priority (``priority_<p>``), the two ways the page shows the backlog. The backlog figure sums every row
    whatever the period; the day only makes a status change recompute a small piece."""

    day = models.DateField()
    team = _ref("accounts.Team", null=True)
    channel = models.CharField(max_length=20)

    class Meta:
        indexes = [models.Index(fields=["day"], name="report_day_backlog")]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_id} {self.channel}"


BACKLOG_STATUSES = tuple(s.value for s in TicketStatus if s in UNSOLVED_STATUSES)
BACKLOG_PRIORITIES = tuple(TicketPriority.values)
BACKLOG_FIELDS = {f"status_{v}": ("status", v) for v in BACKLOG_STATUSES} | {
    f"priority_{v}": ("priority", v) for v in BACKLOG_PRIORITIES}
for _name in BACKLOG_FIELDS:
    DayBacklog.add_to_class(_name, models.IntegerField(default=0))


class RollupMark(models.Model):
    """A ticket whose buckets must be recomputed (written after each ticket event commits; duplicates are fine).

    The refresh deletes exactly the marks it read, so a mark written while it runs waits for the next run."""

    ticket_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"ticket {self.ticket_id}"


class RollupState(models.Model):
    """One row: whether the rollups cover the ticket table (``ready``). Until they do, every viewer gets the live
    queries; the refresh task builds them (``rebuild_started_at`` is its lease)."""

    ready = models.BooleanField(default=False)
    rebuild_started_at = models.DateTimeField(null=True)
    rebuilt_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"ready={self.ready}"


class ReportSchedule(BaseModel):
    """A report emailed on a schedule: the dashboard's figures for ``period`` (with its filters), as the per-day
    CSV attached and a link to the page. Read with the visibility of ``owner`` (an admin), in ``time_zone`` and
    ``language``; ``next_run_at`` is the next sending, advanced by the job that sends it."""

    name = models.CharField(_("name"), max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("owner"))
    recipients = models.JSONField(_("recipients"), default=list)
    frequency = models.CharField(_("frequency"), max_length=10, choices=ReportFrequency.choices,
                                 default=ReportFrequency.WEEKLY)
    weekday = models.PositiveSmallIntegerField(_("weekday"), default=0, choices=WEEKDAYS)
    hour = models.PositiveSmallIntegerField(_("hour"), default=7, validators=[MaxValueValidator(23)])
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    language = models.CharField(_("language"), max_length=10, default="en")
    period = models.CharField(_("period"), max_length=10, choices=ReportPeriod.choices, default=ReportPeriod.LAST_7_DAYS)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("team"))
    channel = models.CharField(_("channel"), max_length=20, blank=True, choices=Channel.choices)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("agent"))
    is_active = models.BooleanField(_("active"), default=True)
    next_run_at = models.DateTimeField(_("next sending"))
    last_sent_at = models.DateTimeField(_("last sent"), null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("scheduled report")
        verbose_name_plural = _("scheduled reports")
        indexes = [models.Index(fields=["next_run_at"], name="report_schedule_due",
                                condition=models.Q(is_active=True))]

    def __str__(self) -> str:
        return self.name
