"""What a report covers (period, buckets, filters) and where each part of it is read from.

A period is cut into UTC ranges. Whole hours (whole UTC days for the daily tables) that lie inside one bucket of
the report are read from the rollups; what is left is read from the ticket table: the current hour (or day), the
pieces of an hour cut by a local midnight in a zone whose offset is not a whole number of hours, and hours whose
SLA figures a passing due time has made out of date (``HourStats.sla_next_due_at``). A viewer who may not see
every ticket, or rollups not built yet, get everything from the ticket table: the same code with one live range.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from itertools import pairwise

from django.utils import timezone

# period key -> (days, bucket)
PERIODS: dict[str, tuple[int, str]] = {
    "7d": (7, "day"),
    "30d": (30, "day"),
    "90d": (90, "week"),
    "365d": (365, "week"),
}
DEFAULT_PERIOD = "30d"
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)

Ranges = list[tuple[datetime.datetime, datetime.datetime]]


@dataclass(frozen=True)
class ReportScope:
    """What a report covers: a time window in the user's time zone, and optional team, channel and agent (the
    tickets' current assignee) filters."""

    since: datetime.datetime
    until: datetime.datetime
    bucket: str  # "day" or "week"
    period: str = DEFAULT_PERIOD
    team_id: int | None = None
    channel: str | None = None
    assignee_id: int | None = None


def report_scope(*, period: str = DEFAULT_PERIOD, team_id: int | None = None, channel: str | None = None,
                 assignee_id: int | None = None, now: datetime.datetime | None = None) -> ReportScope:
    """The window for ``period``: from local midnight ``days - 1`` days ago up to now (today counts as a day)."""
    if period not in PERIODS:
        period = DEFAULT_PERIOD
    days, bucket = PERIODS[period]
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    start_day = today - datetime.timedelta(days=days - 1)
    since = timezone.make_aware(datetime.datetime.combine(start_day, datetime.time.min))
    return ReportScope(since=since, until=now, bucket=bucket, period=period, team_id=team_id, channel=channel,
                       assignee_id=assignee_id)


def bucket_start(day: datetime.date, bucket: str) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday()) if bucket == "week" else day


def bucket_key(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def bucket_days(scope: ReportScope, bucket: str) -> list[datetime.date]:
    """The first local day of every bucket of the period, in order."""
    step = datetime.timedelta(days=7 if bucket == "week" else 1)
    day = bucket_start(timezone.localtime(scope.since).date(), bucket)
    last = timezone.localtime(scope.until).date()
    days = []
    while day <= last:
        days.append(day)
        day += step
    return days


def _utc(value: datetime.datetime) -> datetime.datetime:
    return value.astimezone(datetime.UTC)


def _floor(value: datetime.datetime, step: datetime.timedelta) -> datetime.datetime:
    value = _utc(value)
    if step == DAY:
        return value.replace(hour=0, minute=0, second=0, microsecond=0)
    return value.replace(minute=0, second=0, microsecond=0)


def _ceil(value: datetime.datetime, step: datetime.timedelta) -> datetime.datetime:
    floor = _floor(value, step)
    return floor if floor == _utc(value) else floor + step


def _merge(ranges: Ranges) -> Ranges:
    merged: Ranges = []
    for a, b in sorted(r for r in ranges if r[0] < r[1]):
        if merged and merged[-1][1] >= a:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


@dataclass(frozen=True)
class Plan:
    """UTC ranges of a report: ``days`` read from a daily rollup, ``hours`` from ``HourStats``, ``live`` from the
    ticket table. Together they cover the period once."""

    days: Ranges = field(default_factory=list)
    hours: Ranges = field(default_factory=list)
    live: Ranges = field(default_factory=list)


def live_plan(scope: ReportScope) -> Plan:
    return Plan(live=[(scope.since, scope.until)])


def _hours_and_live(a: datetime.datetime, b: datetime.datetime, hours: Ranges, live: Ranges) -> None:
    lo, hi = _ceil(a, HOUR), _floor(b, HOUR)
    if lo < hi:
        hours.append((lo, hi))
        live += [(a, lo), (hi, b)]
    elif a < b:
        live.append((a, b))


def hour_plan(scope: ReportScope, bucket: str, stale_hours: set[datetime.datetime] = frozenset()) -> Plan:
    """Cut each bucket of the period into whole UTC days (``DayStats``), whole UTC hours (``HourStats``) and the
    rest (live). A whole day or hour lies inside one bucket, so it can be attributed to it by its start. A day
    holding an out-of-date hour is read by the hour."""
    starts = [timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
              for day in bucket_days(scope, bucket)]
    bounds = sorted({scope.since, scope.until, *(s for s in starts if scope.since < s < scope.until)})
    stale_days = {_floor(h, DAY) for h in stale_hours}
    days, hours, live = [], [], []
    for a, b in pairwise(bounds):
        first, last = _ceil(a, DAY), _floor(b, DAY)
        if first >= last:
            _hours_and_live(a, b, hours, live)
            continue
        day = first
        while day < last:
            (hours if day in stale_days else days).append((day, day + DAY))
            day += DAY
        _hours_and_live(a, first, hours, live)
        _hours_and_live(last, b, hours, live)
    return Plan(days=_merge(days), hours=_merge(hours), live=_merge(live))


def stale_in(plan: Plan, stale_hours: set[datetime.datetime]) -> list[datetime.datetime]:
    """The out-of-date hours the plan reads from ``HourStats`` (their created side must be read live)."""
    return sorted(h for h in stale_hours if any(a <= h < b for a, b in plan.hours))


def day_plan(scope: ReportScope) -> Plan:
    """Whole UTC days of the period come from the daily tables; the edges (the current day) are live."""
    lo, hi = _ceil(scope.since, DAY), _floor(scope.until, DAY)
    if lo >= hi:
        return live_plan(scope)
    return Plan(days=[(lo, hi)], live=_merge([(scope.since, lo), (hi, scope.until)]))


def utc_midnight(now: datetime.datetime) -> datetime.datetime:
    return _floor(now, DAY)


def avg_hours(seconds: int | None, count: int) -> float | None:
    return round(seconds / count / 3600, 1) if count else None


def percent(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None
