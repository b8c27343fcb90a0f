"""SQL for the reports' time arithmetic, shared by the rollup writer (raw SQL) and the live queries (ORM).

Django's portable ``TruncDay(..., tzinfo=...)`` and ``F(a) - F(b)`` on SQLite call Python functions registered on
the connection, once per row; at hundreds of thousands of rows that is most of the page's time. These are plain
SQL on both databases: ``julianday``/``strftime``/``date`` are SQLite built-ins, and PostgreSQL does time zones
natively. SQLite stores datetimes as naive UTC text (``YYYY-MM-DD HH:MM:SS[.ffffff]``), which sorts like time.
"""

from __future__ import annotations

import datetime

from django.db import connection
from django.db.models import BigIntegerField, DateField, Func, IntegerField
from django.utils import timezone

from atende.sla.choices import ClockState, SlaMetric


def seconds_sql(later: str, earlier: str, vendor: str | None = None) -> str:
    """Whole seconds from ``earlier`` to ``later`` (NULL if either is NULL). Rounded per ticket, so a sum over an
    hour's tickets stored in a rollup equals the sum the live query computes."""
    if (vendor or connection.vendor) == "postgresql":
        return f"CAST(ROUND(EXTRACT(EPOCH FROM ({later} - {earlier}))) AS BIGINT)"
    return f"CAST(ROUND((julianday({later}) - julianday({earlier})) * 86400) AS INTEGER)"


# Duration histograms (the medians): bin 0 is under a minute, bins 1-98 grow by a constant ratio from one minute
# to a year (each about 14% wider than the one before), bin 99 is a year or more.
DURATION_BINS = 100
BIN_RATIO = (365 * 24 * 60) ** (1 / (DURATION_BINS - 2))


def bin_sql(seconds: str) -> str:
    """The histogram bin of a duration in seconds (PostgreSQL; the same expression on both read paths)."""
    return (f"CASE WHEN {seconds} IS NULL THEN NULL WHEN {seconds} < 60 THEN 0 "
            f"ELSE LEAST({DURATION_BINS - 1}, 1 + CAST(FLOOR(LN({seconds} / 60.0) / LN({BIN_RATIO!r})) AS INTEGER)) END")


def bin_bounds(k: int) -> tuple[float, float]:
    """[lower, upper) seconds of bin ``k``."""
    if k == 0:
        return 0.0, 60.0
    return 60.0 * BIN_RATIO ** (k - 1), 60.0 * BIN_RATIO ** k


def histogram_median(counts: list[int]) -> float | None:
    """The median (as ``percentile_cont(0.5)``: the middle value, or the mean of the two middle ones) of the
    durations a histogram counts, each value placed evenly inside its bin. Off by less than a bin's width (about
    14% of the value) in the worst case; with more than a few tickets per bin, much closer."""
    total = sum(counts)
    if not total:
        return None

    def at(rank: int) -> float:
        seen = 0
        for k, count in enumerate(counts):
            if rank < seen + count:
                lo, hi = bin_bounds(k)
                return lo + (rank - seen + 0.5) / count * (hi - lo)
            seen += count
        raise AssertionError("rank beyond the histogram")

    return (at((total - 1) // 2) + at(total // 2)) / 2


class DurationBin(Func):
    """``bin_sql`` as an ORM expression (PostgreSQL only)."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        seconds, params = compiler.compile(self.source_expressions[0])
        return bin_sql(seconds), params * 3  # ``bin_sql`` repeats its argument three times


def hour_sql(column: str, vendor: str | None = None) -> str:
    """The start of the UTC hour of ``column``, in the column's own storage format."""
    if (vendor or connection.vendor) == "postgresql":
        return f"(DATE_TRUNC('hour', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"
    return f"STRFTIME('%%Y-%%m-%%d %%H:00:00', {column})"


def day_sql(column: str, vendor: str | None = None) -> str:
    """The UTC date of ``column``."""
    if (vendor or connection.vendor) == "postgresql":
        return f"CAST({column} AT TIME ZONE 'UTC' AS DATE)"
    return f"DATE({column})"


def created_measures_sql(alias: str = "") -> dict[str, str]:
    """Per ticket, the created-side measures a rollup sums (``HourStats``), as SQL over the ticket table's
    columns (prefixed with ``alias``). The SLA shares are not here: they are read from the SLA clocks
    (``sla_measures_sql``)."""
    def c(name: str) -> str:
        return f"{alias}{name}"

    return {
        "created": "1",
        "responded": f"CASE WHEN {c('first_response_at')} IS NULL THEN 0 ELSE 1 END",
        "first_response_seconds": seconds_sql(c("first_response_at"), c("created_at")),
        "reopened": f"CASE WHEN {c('reopen_count')} > 0 THEN 1 ELSE 0 END",
    }


SLA_METRICS = (SlaMetric.FIRST_REPLY.value, SlaMetric.NEXT_REPLY.value, SlaMetric.RESOLUTION.value)
RUNNING, FULFILLED, CANCELLED = ClockState.RUNNING.value, ClockState.FULFILLED.value, ClockState.CANCELLED.value
SLA_MEASURES = tuple(f"{metric}_{kind}" for metric in SLA_METRICS for kind in ("met", "decided"))


def sla_measures_sql(alias: str = "") -> dict[str, str]:
    """Per SLA clock (``sla.SlaClock``: one target of one ticket; next reply has one per customer message), 1 or 0
    for each ``<metric>_met`` and ``<metric>_decided``, as SQL over the clock's columns (prefixed with ``alias``).

    The clock is the target's record: the ticket's due-time columns only hold the targets still running, so a met
    target leaves no trace there. A target is *met* when its clock was fulfilled without a breach, and *decided*
    once it was fulfilled or breached, or is running past its due time (the minute job has not recorded the breach
    yet). A paused clock waits, a cancelled one (the policy no longer has that target) is left out. Each
    ``_decided`` holds one ``%s``: "now"."""
    def c(name: str) -> str:
        return f"{alias}{name}"

    measures = {}
    for metric in SLA_METRICS:
        mine = f"{c('metric')} = '{metric}'"
        measures[f"{metric}_met"] = (f"CASE WHEN {mine} AND {c('state')} = '{FULFILLED}' "
                                     f"AND {c('breached_at')} IS NULL THEN 1 ELSE 0 END")
        measures[f"{metric}_decided"] = (
            f"CASE WHEN {mine} AND ({c('state')} = '{FULFILLED}' OR ({c('state')} <> '{CANCELLED}' AND "
            f"({c('breached_at')} IS NOT NULL OR ({c('state')} = '{RUNNING}' AND {c('due_at')} < %s)))) "
            f"THEN 1 ELSE 0 END")
    return measures


def sla_next_due_sql(alias: str = "") -> str:
    """The clock's due time while it may still turn from "undecided" to "decided" by time alone (running, not
    breached, due at or after ``%s``, "now"): the earliest of these tells a rollup row when it goes out of date."""
    return (f"CASE WHEN {alias}state = '{RUNNING}' AND {alias}breached_at IS NULL AND {alias}due_at >= %s "
            f"THEN {alias}due_at END")


class Seconds(Func):
    """``seconds_sql`` as an ORM expression: ``Sum(Seconds("first_response_at", "created_at"))``."""

    output_field = BigIntegerField()

    def __init__(self, later, earlier, **extra):
        super().__init__(later, earlier, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        (later, later_params), (earlier, earlier_params) = (compiler.compile(e) for e in self.source_expressions)
        return seconds_sql(later, earlier, connection.vendor), [*later_params, *earlier_params]


def offset_segments(since: datetime.datetime, until: datetime.datetime,
                    tz: datetime.tzinfo) -> list[tuple[datetime.datetime | None, int]]:
    """The zone's UTC offsets (in minutes) over [since, until): ``[(end, offset), ..., (None, last_offset)]``.

    Found day by day, then to the second by bisection where a day holds a change (daylight saving time), so the
    local date can be computed in SQL with a CASE over a handful of instants."""

    def offset(moment: datetime.datetime) -> int:
        return int(moment.astimezone(tz).utcoffset().total_seconds() // 60)

    start = since.astimezone(datetime.UTC) - datetime.timedelta(days=1)
    stop = until.astimezone(datetime.UTC) + datetime.timedelta(days=1)
    segments: list[tuple[datetime.datetime | None, int]] = []
    current, moment = offset(start), start
    while moment < stop:
        nxt = min(moment + datetime.timedelta(days=1), stop)
        if offset(nxt) == current:
            moment = nxt
            continue
        lo, hi = moment, nxt  # offset(lo) == current != offset(hi)
        while hi - lo > datetime.timedelta(seconds=1):
            mid = lo + (hi - lo) / 2
            lo, hi = (mid, hi) if offset(mid) == current else (lo, mid)
        segments.append((hi, current))
        current, moment = offset(hi), hi
    segments.append((None, current))
    return segments


class Buckets:
    """The local day (or the Monday of the local week) of UTC timestamps, in SQL, for one report: the current
    time zone, and on SQLite its offsets over the report's period (``offset_segments``). Everything is written
    as literals we computed (no user input), so the same text can appear in SELECT and GROUP BY."""

    def __init__(self, *, bucket: str, since: datetime.datetime, until: datetime.datetime):
        self.week = bucket == "week"
        self.tz = timezone.get_current_timezone()
        self.segments = offset_segments(since, until, self.tz) if connection.vendor == "sqlite" else None

    def sql(self, column: str, *, date_column: bool = False) -> str:
        """SQL for the bucket (a date) of ``column``; ``date_column``: a UTC date, taken at its midnight."""
        if connection.vendor == "postgresql":
            moment = f"(CAST({column} AS TIMESTAMP) AT TIME ZONE 'UTC')" if date_column else column
            zone = "'" + str(self.tz).replace("'", "''") + "'"
            local = f"({moment} AT TIME ZONE {zone})"
            return f"CAST(DATE_TRUNC('week', {local}) AS DATE)" if self.week else f"CAST({local} AS DATE)"
        moment = f"({column} || ' 00:00:00')" if date_column else column
        if len(self.segments) == 1:
            modifier = f"'{self.segments[0][1]:+d} minutes'"
        else:
            whens = " ".join(f"WHEN {moment} < '{connection.ops.adapt_datetimefield_value(end)}' "
                             f"THEN '{minutes:+d} minutes'" for end, minutes in self.segments[:-1])
            modifier = f"CASE {whens} ELSE '{self.segments[-1][1]:+d} minutes' END"
        week = ", '-6 days', 'weekday 1'" if self.week else ""
        return f"DATE({moment}, {modifier}{week})"

    def of(self, column, *, date_column: bool = False) -> Func:
        return LocalBucket(column, buckets=self, date_column=date_column)


class LocalBucket(Func):
    """``Buckets.sql`` as an ORM expression."""

    output_field = DateField()

    def __init__(self, expression, *, buckets: Buckets, date_column: bool = False):
        super().__init__(expression)
        self.buckets, self.date_column = buckets, date_column

    def as_sql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.source_expressions[0])
        assert not params, "a column, not an expression with parameters"
        return self.buckets.sql(column, date_column=self.date_column), []
