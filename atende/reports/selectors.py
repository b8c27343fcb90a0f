"""Reads for the reports dashboard and its CSV export.

Every figure is one aggregate query in the database (``Count``/``Avg`` with filters, grouped by ``TruncDay`` or
``TruncWeek``); no ticket is ever loaded into Python, so the number of queries and the memory used do not depend
on how many tickets there are. Date ranges bound every query on an indexed column (``created_at`` through
``ticket_created``, ``solved_at`` through ``ticket_status_solved``, events through ``event_type_created``).

Times are averages on every database. PostgreSQL also gives medians (``percentile_cont``); SQLite has no percentile
function, so there the median figures are ``None`` and the page does not show them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import Aggregate, Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Subquery
from django.db.models.functions import TruncDay, TruncWeek
from django.utils import timezone

from atende.accounts.models import User
from atende.accounts.selectors import team_ids_for_user
from atende.kb.selectors import deflection_count
from atende.surveys.choices import Rating
from atende.surveys.models import SatisfactionSurvey
from atende.surveys.selectors import satisfaction_summary
from atende.tickets.choices import Channel, TicketEventType, TicketPriority, TicketStatus
from atende.tickets.models import Ticket, TicketEvent, TicketTag
from atende.tickets.selectors import ticket_list_for_user, ticket_visibility_filter
from atende.tickets.states import UNSOLVED_STATUSES

# period key -> (days, bucket)
PERIODS: dict[str, tuple[int, str]] = {
    "7d": (7, "day"),
    "30d": (30, "day"),
    "90d": (90, "week"),
    "365d": (365, "week"),
}
DEFAULT_PERIOD = "30d"
SOLVED_STATUSES = (TicketStatus.SOLVED, TicketStatus.CLOSED)
TOP_N = 10
BACKLOG_STATUS_ORDER = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD)

FIRST_RESPONSE = ExpressionWrapper(F("first_response_at") - F("created_at"), output_field=DurationField())
RESOLUTION = ExpressionWrapper(F("solved_at") - F("created_at"), output_field=DurationField())


class Median(Aggregate):
    """PostgreSQL's continuous median (``percentile_cont(0.5)``), an ordered-set aggregate."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False


def medians_supported() -> bool:
    return connection.vendor == "postgresql"


def _median(expression, **extra) -> dict:
    """``{"...": Median(...)}`` where the database has one, else nothing (so SQLite runs the same queries)."""
    return {"median": Median(expression, output_field=DurationField(), **extra)} if medians_supported() else {}


@dataclass(frozen=True)
class ReportScope:
    """What a report covers: a time window in the user's time zone, and optional team and channel filters."""

    since: datetime.datetime
    until: datetime.datetime
    bucket: str  # "day" or "week"
    period: str = DEFAULT_PERIOD
    team_id: int | None = None
    channel: str | None = None


def report_scope(*, period: str = DEFAULT_PERIOD, team_id: int | None = None, channel: str | None = None,
                 now: datetime.datetime | None = None) -> ReportScope:
    """The window for ``period``: from local midnight ``days - 1`` days ago up to now (today counts as a day)."""
    if period not in PERIODS:
        period = DEFAULT_PERIOD
    days, bucket = PERIODS[period]
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    start_day = today - datetime.timedelta(days=days - 1)
    since = timezone.make_aware(datetime.datetime.combine(start_day, datetime.time.min))
    return ReportScope(since=since, until=now, bucket=bucket, period=period, team_id=team_id, channel=channel)


def _hours(value: datetime.timedelta | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        return round(value.total_seconds() / 3600, 1)
    return round(float(value) / 3_600_000_000, 1)  # some backends hand back microseconds


def _percent(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


def report_ticket_base(*, user: User, scope: ReportScope) -> QuerySet[Ticket]:
    """Tickets the user may see (their teams' only, for restricted agents and collaborators), filtered by team and
    channel; spam is never counted."""
    qs = ticket_list_for_user(user=user).filter(is_spam=False)
    if scope.team_id is not None:
        qs = qs.filter(team_id=scope.team_id)
    if scope.channel:
        qs = qs.filter(channel=scope.channel)
    return qs


def _created_in(qs: QuerySet[Ticket], scope: ReportScope) -> QuerySet[Ticket]:
    return qs.filter(created_at__gte=scope.since, created_at__lt=scope.until)


def _solved_in(qs: QuerySet[Ticket], scope: ReportScope) -> QuerySet[Ticket]:
    # ``status`` first lets the database use the (status, solved_at) index; a reopened ticket has no solved_at.
    return qs.filter(status__in=SOLVED_STATUSES, solved_at__gte=scope.since, solved_at__lt=scope.until)


def _sla_aggregates(now: datetime.datetime) -> dict:
    """Filtered counts: a target is "decided" once it was met or is already past; open, not yet due ones wait."""
    first_target = Q(first_reply_due_at__isnull=False)
    resolution_target = Q(resolution_due_at__isnull=False)
    return {
        "first_reply_decided": Count("id", filter=first_target & (Q(first_response_at__isnull=False)
                                                                 | Q(first_reply_due_at__lt=now))),
        "first_reply_met": Count("id", filter=first_target & Q(first_response_at__lte=F("first_reply_due_at"))),
        "resolution_decided": Count("id", filter=resolution_target & (Q(solved_at__isnull=False)
                                                                     | Q(resolution_due_at__lt=now))),
        "resolution_met": Count("id", filter=resolution_target & Q(solved_at__lte=F("resolution_due_at"))),
    }


def _events_in(*, user: User, scope: ReportScope, event_type: str) -> QuerySet[TicketEvent]:
    events = TicketEvent.objects.filter(type=event_type, created_at__gte=scope.since, created_at__lt=scope.until)
    if ticket_visibility_filter(user) is None and scope.team_id is None and not scope.channel:
        return events  # everything visible: no join needed
    return events.filter(ticket_id__in=Subquery(report_ticket_base(user=user, scope=scope).values("pk")))


def _bucket_start(day: datetime.date, bucket: str) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday()) if bucket == "week" else day


def _bucket_key(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _buckets(scope: ReportScope) -> list[datetime.date]:
    step = datetime.timedelta(days=7 if scope.bucket == "week" else 1)
    first = _bucket_start(timezone.localtime(scope.since).date(), scope.bucket)
    last = timezone.localtime(scope.until).date()
    days, day = [], first
    while day <= last:
        days.append(day)
        day += step
    return days


def report_timeseries(*, user: User, scope: ReportScope, bucket: str | None = None) -> list[dict]:
    """One row per day (or week) of the period: created, solved, average first response and resolution hours,
    first-reply SLA met/decided, SLA breach events. Three grouped queries whatever the number of tickets."""
    bucket = bucket or scope.bucket
    trunc = TruncWeek if bucket == "week" else TruncDay
    tz = timezone.get_current_timezone()
    base = report_ticket_base(user=user, scope=scope)
    now = scope.until
    created = (_created_in(base, scope).annotate(bucket=trunc("created_at", tzinfo=tz)).values("bucket")
               .annotate(created=Count("id"), first_response=Avg(FIRST_RESPONSE),
                         **_sla_aggregates(now)).order_by("bucket"))
    solved = (_solved_in(base, scope).annotate(bucket=trunc("solved_at", tzinfo=tz)).values("bucket")
              .annotate(solved=Count("id"), resolution=Avg(RESOLUTION)).order_by("bucket"))
    breaches = (_events_in(user=user, scope=scope, event_type=TicketEventType.SLA_BREACHED)
                .annotate(bucket=trunc("created_at", tzinfo=tz)).values("bucket")
                .annotate(n=Count("id")).order_by("bucket"))
    def empty(day: datetime.date) -> dict:
        return {"day": day, "created": 0, "solved": 0, "first_response_hours": None, "resolution_hours": None,
                "first_reply_met": 0, "first_reply_decided": 0, "sla_breaches": 0}

    rows = {day: empty(day) for day in _buckets(ReportScope(since=scope.since, until=scope.until, bucket=bucket))}

    def row(value) -> dict:
        key = _bucket_key(value)
        return rows.setdefault(key, empty(key))

    for item in created:
        target = row(item["bucket"])
        target.update(created=item["created"], first_response_hours=_hours(item["first_response"]),
                      first_reply_met=item["first_reply_met"], first_reply_decided=item["first_reply_decided"])
    for item in solved:
        row(item["bucket"]).update(solved=item["solved"], resolution_hours=_hours(item["resolution"]))
    for item in breaches:
        row(item["bucket"])["sla_breaches"] = item["n"]
    return [rows[key] for key in sorted(rows)]


def report_summary(*, user: User, scope: ReportScope) -> dict:
    """Headline figures for the period: two aggregate queries over tickets plus one over SLA breach events."""
    base = report_ticket_base(user=user, scope=scope)
    created = _created_in(base, scope).aggregate(
        created=Count("id"), first_response=Avg(FIRST_RESPONSE), responded=Count("first_response_at"),
        reopened=Count("id", filter=Q(reopen_count__gt=0)), **_sla_aggregates(scope.until),
        **_median(FIRST_RESPONSE, filter=Q(first_response_at__isnull=False)))
    solved = _solved_in(base, scope).aggregate(solved=Count("id"), resolution=Avg(RESOLUTION), **_median(RESOLUTION))
    breaches = _events_in(user=user, scope=scope, event_type=TicketEventType.SLA_BREACHED).count()
    return {
        "created": created["created"],
        "solved": solved["solved"],
        "responded": created["responded"],
        "reopened": created["reopened"],
        "first_response_hours": _hours(created["first_response"]),
        "resolution_hours": _hours(solved["resolution"]),
        "first_response_median_hours": _hours(created.get("median")),
        "resolution_median_hours": _hours(solved.get("median")),
        "first_reply_met": created["first_reply_met"],
        "first_reply_decided": created["first_reply_decided"],
        "first_reply_pct": _percent(created["first_reply_met"], created["first_reply_decided"]),
        "resolution_met": created["resolution_met"],
        "resolution_decided": created["resolution_decided"],
        "resolution_pct": _percent(created["resolution_met"], created["resolution_decided"]),
        "sla_breaches": breaches,
    }


def report_by_team(*, user: User, scope: ReportScope) -> list[dict]:
    """Per team: tickets created, average first response (tickets created in the period) and average resolution
    (tickets solved in the period). Two grouped queries."""
    base = report_ticket_base(user=user, scope=scope)
    created = (_created_in(base, scope).values("team_id", "team__name")
               .annotate(created=Count("id"), first_response=Avg(FIRST_RESPONSE),
                         **_median(FIRST_RESPONSE, filter=Q(first_response_at__isnull=False))).order_by())
    solved = (_solved_in(base, scope).values("team_id", "team__name")
              .annotate(solved=Count("id"), resolution=Avg(RESOLUTION), **_median(RESOLUTION)).order_by())
    rows: dict = {}
    for item in created:
        rows[item["team_id"]] = {"team_id": item["team_id"], "team": item["team__name"], "created": item["created"],
                                 "solved": 0, "first_response_hours": _hours(item["first_response"]),
                                 "first_response_median_hours": _hours(item.get("median")),
                                 "resolution_hours": None, "resolution_median_hours": None}
    for item in solved:
        row = rows.setdefault(item["team_id"], {"team_id": item["team_id"], "team": item["team__name"],
                                                "created": 0, "first_response_hours": None,
                                                "first_response_median_hours": None})
        row.update(solved=item["solved"], resolution_hours=_hours(item["resolution"]),
                   resolution_median_hours=_hours(item.get("median")))
    return sorted(rows.values(), key=lambda r: (r["team"] is None, r["team"] or ""))


def report_breakdowns(*, user: User, scope: ReportScope) -> dict:
    """Tickets created in the period by channel, by category (top) and by tag (top)."""
    created = _created_in(report_ticket_base(user=user, scope=scope), scope)
    channel_labels = dict(Channel.choices)
    by_channel = [{"key": item["channel"], "label": channel_labels.get(item["channel"], item["channel"]),
                   "n": item["n"]}
                  for item in created.values("channel").annotate(n=Count("id")).order_by("-n", "channel")]
    by_category = [{"key": item["category_id"], "label": item["category__name"], "n": item["n"]}
                   for item in created.values("category_id", "category__name").annotate(n=Count("id"))
                   .order_by("-n", "category__name")[:TOP_N]]
    by_tag = [{"key": item["tag__name"], "label": item["tag__name"], "n": item["n"]}
              for item in TicketTag.objects.filter(ticket_id__in=Subquery(created.values("pk")))
              .values("tag__name").annotate(n=Count("id")).order_by("-n", "tag__name")[:TOP_N]]
    return {"by_channel": by_channel, "by_category": by_category, "by_tag": by_tag}


def report_backlog(*, user: User, scope: ReportScope) -> dict:
    """Unsolved tickets right now (not bound to the period), by status and by priority: one grouped query."""
    qs = report_ticket_base(user=user, scope=scope).filter(status__in=UNSOLVED_STATUSES)
    by_status = {status: 0 for status in BACKLOG_STATUS_ORDER if status in UNSOLVED_STATUSES}
    by_priority = {priority: 0 for priority in TicketPriority.values}
    total = 0
    for item in qs.values("status", "priority").annotate(n=Count("id")).order_by():
        by_status[item["status"]] = by_status.get(item["status"], 0) + item["n"]
        by_priority[item["priority"]] = by_priority.get(item["priority"], 0) + item["n"]
        total += item["n"]
    labels_status = dict(TicketStatus.choices)
    labels_priority = dict(TicketPriority.choices)
    return {
        "total": total,
        "by_status": [{"key": k, "label": labels_status.get(k, k), "n": n} for k, n in by_status.items()],
        "by_priority": [{"key": k, "label": labels_priority.get(k, k), "n": n}
                        for k, n in reversed(list(by_priority.items()))],
    }


def _scoped_team_ids(user: User, scope: ReportScope) -> list[int] | None:
    """Which teams' surveys count: the chosen team, the user's teams when restricted, or ``None`` for all."""
    if scope.team_id is not None:
        return [scope.team_id]
    if ticket_visibility_filter(user) is None:
        return None
    return team_ids_for_user(user)


def report_satisfaction(*, user: User, scope: ReportScope) -> dict:
    """Satisfaction surveys sent in the period (``surveys.selectors.satisfaction_summary``), summed over the teams
    a restricted user may see. Surveys carry no channel, so the channel filter does not apply here."""
    team_ids = _scoped_team_ids(user, scope)
    if team_ids is None:
        return satisfaction_summary(since=scope.since, until=scope.until)
    total = {"asked": 0, "good": 0, "bad": 0, "answered": 0}
    for team_id in team_ids:
        part = satisfaction_summary(since=scope.since, until=scope.until, team_id=team_id)
        for key in total:
            total[key] += part[key]
    return {**total, "score": _percent(total["good"], total["answered"]),
            "response_rate": _percent(total["answered"], total["asked"])}


def report_deflections(*, scope: ReportScope) -> int:
    """Requests the knowledge base answered before a ticket was opened (not tied to a team or a channel)."""
    return deflection_count(since=scope.since, until=scope.until)


def report_by_agent(*, user: User, scope: ReportScope, limit: int = 50) -> list[dict]:
    """Per assignee: tickets solved in the period, average first response of their tickets created in the period,
    and satisfaction (good/bad) of surveys sent in the period. Two grouped ticket queries, each on its own index
    (one query with "created OR solved" defeats both), then the names and the surveys."""
    base = report_ticket_base(user=user, scope=scope).filter(assignee__isnull=False)
    solved = {item["assignee_id"]: item["n"] for item in
              _solved_in(base, scope).values("assignee_id").annotate(n=Count("id")).order_by()}
    responded = {item["assignee_id"]: item for item in
                 _created_in(base, scope).filter(first_response_at__isnull=False).values("assignee_id")
                 .annotate(first_response=Avg(FIRST_RESPONSE), **_median(FIRST_RESPONSE)).order_by()}
    names = {pk: name or email for pk, name, email in User.objects.filter(pk__in=solved.keys() | responded.keys())
             .values_list("pk", "name", "email").order_by()}
    rows = sorted(({"assignee_id": pk, "name": names[pk], "solved": solved.get(pk, 0),
                    "first_response": responded.get(pk, {})} for pk in names),
                  key=lambda r: (-r["solved"], r["name"].lower()))[:limit]
    surveys = SatisfactionSurvey.objects.filter(created_at__gte=scope.since, created_at__lt=scope.until,
                                                assignee_id__in=[r["assignee_id"] for r in rows])
    team_ids = _scoped_team_ids(user, scope)
    if team_ids is not None:
        surveys = surveys.filter(team_id__in=team_ids)
    ratings = {item["assignee_id"]: item for item in surveys.values("assignee_id").annotate(
        good=Count("id", filter=Q(rating=Rating.GOOD)), bad=Count("id", filter=Q(rating=Rating.BAD))).order_by()}
    result = []
    for item in rows:
        rating = ratings.get(item["assignee_id"], {"good": 0, "bad": 0})
        result.append({
            "agent_id": item["assignee_id"], "agent": item["name"],
            "solved": item["solved"], "first_response_hours": _hours(item["first_response"].get("first_response")),
            "first_response_median_hours": _hours(item["first_response"].get("median")),
            "good": rating["good"], "bad": rating["bad"],
            "score": _percent(rating["good"], rating["good"] + rating["bad"]),
        })
    return result


def report_dashboard(*, user: User, scope: ReportScope) -> dict:
    """Everything the dashboard shows, in a fixed number of queries."""
    return {
        "summary": report_summary(user=user, scope=scope),
        "timeseries": report_timeseries(user=user, scope=scope),
        "by_team": report_by_team(user=user, scope=scope),
        "breakdowns": report_breakdowns(user=user, scope=scope),
        "backlog": report_backlog(user=user, scope=scope),
        "satisfaction": report_satisfaction(user=user, scope=scope),
        "deflections": report_deflections(scope=scope),
        "by_agent": report_by_agent(user=user, scope=scope),
        "medians": medians_supported(),
    }
