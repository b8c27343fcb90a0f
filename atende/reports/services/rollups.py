"""Writes of the reports app: the rollups (``models.py``), recomputed from the ticket table.

A bucket (a UTC hour of ``HourStats``, a UTC day of the daily tables) is recomputed by deleting its rows and
inserting them again with one ``INSERT ... SELECT`` over the tickets of that bucket, read through the
``created_at`` and ``(status, solved_at)`` indexes. The database does the arithmetic (no ticket is loaded into
Python), each recompute is a short transaction, and running one twice gives the same rows. Writers take one lock
(PostgreSQL advisory lock; SQLite serialises writers anyway), so a refresh and a rebuild never interleave inside a
bucket.

Freshness: every ticket event marks its ticket (the events subscriber ``events.rollups_mark_on_events``); ``rollups_refresh`` (every
minute, ``core/scheduler.py``) recomputes the buckets those tickets are counted in, before and after the change,
and the hours whose SLA figures a passing due time made out of date. ``rollups_rebuild`` recomputes everything
(``atende reports-rebuild``, the demo and the bulk seeder call it).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from atende.reports.expressions import (
    DURATION_BINS,
    SLA_MEASURES,
    bin_sql,
    created_measures_sql,
    day_sql,
    hour_sql,
    seconds_sql,
    sla_measures_sql,
    sla_next_due_sql,
)
from atende.reports.models import (
    BACKLOG_FIELDS,
    DayAgentStats,
    DayBacklog,
    DayCategoryStats,
    DayDurationStats,
    DayStats,
    DayTagStats,
    HourStats,
    RollupMark,
    RollupState,
    bin_fields,
)
from atende.sla.models import SlaClock
from atende.tickets.choices import TicketEventType, TicketStatus
from atende.tickets.models import Ticket, TicketEvent, TicketTag
from atende.tickets.states import UNSOLVED_STATUSES

logger = logging.getLogger(__name__)

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
SOLVED = (TicketStatus.SOLVED.value, TicketStatus.CLOSED.value)
UNSOLVED = tuple(sorted(UNSOLVED_STATUSES))
REBUILD_CHUNK_DAYS = 7  # one transaction per week of buckets: short enough not to hold writers up for long
REBUILD_LEASE = datetime.timedelta(minutes=30)
LOCK_KEY = 0x52505254  # "RPRT": PostgreSQL advisory lock serialising rollup writers
DAILY_TABLES = (DayStats, DayDurationStats, DayCategoryStats, DayTagStats, DayAgentStats, DayBacklog)
DAY_MEASURES = ("created", "responded", "first_response_seconds", "reopened", *SLA_MEASURES, "solved",
                "resolution_seconds")


def _q(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _dt(value: datetime.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _d(value: datetime.date):
    return connection.ops.adapt_datefield_value(value)


def floor_hour(value: datetime.datetime) -> datetime.datetime:
    return value.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


def _marks(values: Iterable) -> str:
    return ", ".join("%s" for _ in values)


# -- one bucket range ------------------------------------------------------------------------------------------

def _union_branch(values: dict[str, str]) -> str:
    """One branch of the hour insert's UNION ALL: every column of ``HOUR_COLUMNS``, 0 (or NULL) where unset."""
    return ", ".join(f"{values.get(name, default)} AS {name}" for name, default in HOUR_COLUMNS.items())


# The inner columns of the hour insert and their value in a branch that does not measure them (typed: PostgreSQL
# types a UNION branch by branch, and two untyped NULLs in a row become text).
HOUR_COLUMNS = {"hour": "NULL", "team_id": "NULL", "channel": "NULL", **{m: "0" for m in DAY_MEASURES},
                "first_response_seconds": "CAST(NULL AS BIGINT)", "resolution_seconds": "CAST(NULL AS BIGINT)",
                "sla_due": "NULL"}


def _hour_statements(start: datetime.datetime, end: datetime.datetime, now: datetime.datetime) -> list:
    """Replace ``HourStats`` for the hours in [start, end): tickets created in them (created side), their SLA
    clocks (SLA "decided" as of ``now``) and tickets solved in them (solved side), in one grouped insert."""
    t, h, c = _q(Ticket), _q(HourStats), _q(SlaClock)
    a, b, n = _dt(start), _dt(end), _dt(now)
    sla = sla_measures_sql("c.")
    created = _union_branch({"hour": hour_sql("created_at"), "team_id": "team_id", "channel": "channel",
                             **created_measures_sql()})
    clocks = _union_branch({"hour": hour_sql("t.created_at"), "team_id": "t.team_id", "channel": "t.channel",
                            **sla, "sla_due": sla_next_due_sql("c.")})
    solved = _union_branch({"hour": hour_sql("solved_at"), "team_id": "team_id", "channel": "channel",
                            "solved": "1", "resolution_seconds": seconds_sql("solved_at", "created_at")})
    measures = ", ".join(DAY_MEASURES)
    sums = ", ".join(f"COALESCE(SUM({m}), 0)" for m in DAY_MEASURES)
    sql = f"""
        INSERT INTO {h} (hour, team_id, channel, {measures}, sla_next_due_at, computed_at)
        SELECT hour, team_id, channel, {sums}, MIN(sla_due), %s
        FROM (
            SELECT {created} FROM {t} WHERE created_at >= %s AND created_at < %s AND NOT is_spam
            UNION ALL
            SELECT {clocks} FROM {c} c JOIN {t} t ON t.id = c.ticket_id
            WHERE t.created_at >= %s AND t.created_at < %s AND NOT t.is_spam
            UNION ALL
            SELECT {solved}
            FROM {t} WHERE status IN ({_marks(SOLVED)}) AND solved_at >= %s AND solved_at < %s AND NOT is_spam
        ) AS r
        GROUP BY hour, team_id, channel"""
    decided = [n] * sum(sql_part.count("%s") for sql_part in sla.values())
    return [(f"DELETE FROM {h} WHERE hour >= %s AND hour < %s", [a, b]),
            (sql, [n, a, b, *decided, n, a, b, *SOLVED, a, b])]


def _day_statements(start: datetime.date, end: datetime.date) -> list:
    """Replace the daily tables for the UTC days in [start, end); ``DayStats`` sums their ``HourStats`` rows, so
    those must be current first."""
    t, tt = _q(Ticket), _q(TicketTag)
    a, b = _dt(_midnight(start)), _dt(_midnight(end))
    created_in = "created_at >= %s AND created_at < %s AND NOT is_spam"
    day = day_sql("created_at")
    statements = [(f"DELETE FROM {_q(model)} WHERE day >= %s AND day < %s", [_d(start), _d(end)])
                  for model in DAILY_TABLES]
    measures = ", ".join(DAY_MEASURES)
    statements.append((f"""
        INSERT INTO {_q(DayStats)} (day, team_id, channel, {measures})
        SELECT {day_sql("hour")}, team_id, channel, {", ".join(f"SUM({m})" for m in DAY_MEASURES)}
        FROM {_q(HourStats)} WHERE hour >= %s AND hour < %s
        GROUP BY {day_sql("hour")}, team_id, channel""", [a, b]))
    statements.append((f"""
        INSERT INTO {_q(DayCategoryStats)} (day, team_id, channel, category_id, created)
        SELECT {day}, team_id, channel, category_id, COUNT(*) FROM {t} WHERE {created_in}
        GROUP BY {day}, team_id, channel, category_id""", [a, b]))
    tday = day_sql("t.created_at")
    statements.append((f"""
        INSERT INTO {_q(DayTagStats)} (day, team_id, channel, tag_id, created)
        SELECT {tday}, t.team_id, t.channel, x.tag_id, COUNT(*)
        FROM {t} t JOIN {tt} x ON x.ticket_id = t.id
        WHERE t.created_at >= %s AND t.created_at < %s AND NOT t.is_spam
        GROUP BY {tday}, t.team_id, t.channel, x.tag_id""", [a, b]))
    statements.append(_agent_statement(a, b))
    if connection.vendor == "postgresql":  # medians: only PostgreSQL shows them
        statements.append(_duration_statement(a, b))
    counts = ", ".join(f"SUM(CASE WHEN {column} = %s THEN 1 ELSE 0 END)" for column, _v in BACKLOG_FIELDS.values())
    statements.append((f"""
        INSERT INTO {_q(DayBacklog)} (day, team_id, channel, {", ".join(BACKLOG_FIELDS)})
        SELECT {day}, team_id, channel, {counts} FROM {t}
        WHERE status IN ({_marks(UNSOLVED)}) AND {created_in}
        GROUP BY {day}, team_id, channel""", [*(v for _c, v in BACKLOG_FIELDS.values()), *UNSOLVED, a, b]))
    return statements


def _pivot(count: str, condition: str = "") -> str:
    """One column per histogram bin: ``SUM(count) FILTER (WHERE [condition AND] bin = k)`` (PostgreSQL)."""
    where = f"{condition} AND " if condition else ""
    return ", ".join(f"COALESCE(SUM({count}) FILTER (WHERE {where}bin = {k}), 0)" for k in range(DURATION_BINS))


def _agent_statement(a, b) -> tuple[str, list]:
    """``DayAgentStats`` for [a, b): first responses of the tickets created then (and, on PostgreSQL, their
    histogram), tickets solved then; per day, team, channel and assignee."""
    t = _q(Ticket)
    first = seconds_sql("first_response_at", "created_at")
    bins = connection.vendor == "postgresql"
    bin_columns = f", {', '.join(bin_fields('first_response'))}" if bins else ""
    bin_values = f", {_pivot('responded')}" if bins else ""
    bin_inner = f", {bin_sql('frs')} AS bin" if bins else ", 0 AS bin"
    sql = f"""
        INSERT INTO {_q(DayAgentStats)} (day, team_id, channel, assignee_id, responded, first_response_seconds,
                                         solved{bin_columns})
        SELECT day, team_id, channel, assignee_id, SUM(responded), COALESCE(SUM(frs), 0), SUM(solved){bin_values}
        FROM (
            SELECT day, team_id, channel, assignee_id, 1 AS responded, frs, 0 AS solved{bin_inner} FROM (
                SELECT {day_sql("created_at")} AS day, team_id, channel, assignee_id, {first} AS frs FROM {t}
                WHERE created_at >= %s AND created_at < %s AND NOT is_spam AND assignee_id IS NOT NULL
                      AND first_response_at IS NOT NULL
            ) AS created
            UNION ALL
            SELECT {day_sql("solved_at")}, team_id, channel, assignee_id, 0, NULL, 1, NULL FROM {t}
            WHERE status IN ({_marks(SOLVED)}) AND solved_at >= %s AND solved_at < %s AND NOT is_spam
                  AND assignee_id IS NOT NULL
        ) AS r
        GROUP BY day, team_id, channel, assignee_id"""
    return sql, [a, b, *SOLVED, a, b]


def _duration_statement(a, b) -> tuple[str, list]:
    """``DayDurationStats`` for [a, b) (PostgreSQL): histograms of first response (tickets created then) and of
    resolution (tickets solved then), counted per bin first so the pivot reads few rows."""
    t = _q(Ticket)
    columns = ", ".join([*bin_fields("first_response"), *bin_fields("resolution")])
    sql = f"""
        INSERT INTO {_q(DayDurationStats)} (day, team_id, channel, {columns})
        SELECT day, team_id, channel, {_pivot("n", "side = 0")},
               {_pivot("n", "side = 1")}
        FROM (
            SELECT day, team_id, channel, 0 AS side, {bin_sql("s")} AS bin, COUNT(*) AS n FROM (
                SELECT {day_sql("created_at")} AS day, team_id, channel,
                       {seconds_sql("first_response_at", "created_at")} AS s
                FROM {t} WHERE created_at >= %s AND created_at < %s AND NOT is_spam
                               AND first_response_at IS NOT NULL
            ) AS created GROUP BY 1, 2, 3, 4, 5
            UNION ALL
            SELECT day, team_id, channel, 1, {bin_sql("s")}, COUNT(*) FROM (
                SELECT {day_sql("solved_at")} AS day, team_id, channel, {seconds_sql("solved_at", "created_at")} AS s
                FROM {t} WHERE status IN ({_marks(SOLVED)}) AND solved_at >= %s AND solved_at < %s AND NOT is_spam
            ) AS solved GROUP BY 1, 2, 3, 4, 5
        ) AS r
        GROUP BY day, team_id, channel"""
    return sql, [a, b, *SOLVED, a, b]


def _run(statements: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        for sql, params in statements:
            cursor.execute(sql, params)


def rollups_recompute_hours(*, start: datetime.datetime, end: datetime.datetime,
                            now: datetime.datetime | None = None) -> None:
    """Recompute ``HourStats`` for the UTC hours in [start, end) (both rounded to whole hours)."""
    _run(_hour_statements(floor_hour(start), floor_hour(end - datetime.timedelta(microseconds=1)) + HOUR,
                          now or timezone.now()))


def rollups_recompute_days(*, start: datetime.date, end: datetime.date) -> None:
    """Recompute the daily tables for the UTC days in [start, end)."""
    _run(_day_statements(start, end))


# -- which buckets a ticket is counted in ----------------------------------------------------------------------

def _runs(values: set, step: datetime.timedelta, longest: int) -> list[tuple]:
    """Sorted values grouped into [start, end) runs of consecutive buckets, at most ``longest`` buckets each."""
    runs: list[list] = []
    for value in sorted(values):
        if runs and runs[-1][1] == value and (runs[-1][1] - runs[-1][0]) < step * longest:
            runs[-1][1] = value + step
        else:
            runs.append([value, value + step])
    return [tuple(r) for r in runs]


def _buckets_of(ticket_ids: set[int]) -> tuple[set[datetime.datetime], set[datetime.date]]:
    """The hours and days these tickets are counted in now, and the ones they may have been counted in before:
    ``created_at`` never changes, but a reopen clears ``solved_at`` and a new solve moves it. ``solved_at`` is
    only set by ``Ticket.apply_status``, and ``ticket_transition`` records that STATUS_CHANGED event at the same
    instant, so a reopened ticket's earlier solved hours are its "→ solved" events' hours."""
    hours: set[datetime.datetime] = set()
    days: set[datetime.date] = set()

    def add(moment: datetime.datetime | None) -> None:
        if moment is not None:
            hours.add(floor_hour(moment))
            days.add(moment.astimezone(datetime.UTC).date())

    reopened: list[int] = []
    for pk, created_at, solved_at, reopen_count in (Ticket.objects.filter(pk__in=ticket_ids).order_by()
                                                    .values_list("pk", "created_at", "solved_at", "reopen_count")):
        add(created_at)
        add(solved_at)
        if reopen_count:
            reopened.append(pk)
    if reopened:
        for moment in (TicketEvent.objects.filter(ticket_id__in=reopened, type=TicketEventType.STATUS_CHANGED,
                                                  data__new=TicketStatus.SOLVED).order_by()
                       .values_list("created_at", flat=True)):
            add(moment)
    return hours, days


def _recompute(hours: set[datetime.datetime], days: set[datetime.date], now: datetime.datetime) -> None:
    for start, end in _runs(hours, HOUR, longest=24 * REBUILD_CHUNK_DAYS):
        _run(_hour_statements(start, end, now))
    for start, end in _runs(days, DAY, longest=REBUILD_CHUNK_DAYS):
        _run(_day_statements(start, end))


def rollups_mark_tickets(*, ticket_ids: Iterable[int]) -> int:
    """Ask the next refresh to recompute these tickets' buckets (for writes that published no events: imports)."""
    marks = [RollupMark(ticket_id=int(pk)) for pk in set(ticket_ids)]
    RollupMark.objects.bulk_create(marks, batch_size=1000)
    return len(marks)


def rollups_refresh(*, now: datetime.datetime | None = None, batch_size: int = 2000,
                    max_batches: int = 50) -> dict[str, int]:
    """Recompute the buckets of marked tickets and the hours whose SLA figures went out of date; build everything
    first if the rollups are not ready (after the migration on an existing database). Idempotent."""
    now = now or timezone.now()
    state = RollupState.objects.filter(pk=1).first()
    if state is None or not state.ready:
        return {"rebuilt": int(_rebuild_if_leased(now)), "tickets": 0, "hours": 0, "days": 0}
    done = {"rebuilt": 0, "tickets": 0, "hours": 0, "days": 0}
    # No DISTINCT: it would make SQLite walk the (hour, ...) index instead of the small partial one.
    stale = set(HourStats.objects.filter(sla_next_due_at__lt=now).values_list("hour", flat=True).order_by())
    for _batch in range(max_batches):
        marks = list(RollupMark.objects.order_by("id").values_list("id", "ticket_id")[:batch_size])
        hours, days = _buckets_of({ticket_id for _, ticket_id in marks})
        hours |= stale
        days |= {hour.date() for hour in stale}  # ``DayStats`` sums the hours: recompute it after them
        stale = set()
        _recompute(hours, days, now)
        RollupMark.objects.filter(id__in=[mark_id for mark_id, _ in marks]).delete()
        done["tickets"] += len(marks)
        done["hours"] += len(hours)
        done["days"] += len(days)
        if len(marks) < batch_size:
            break
    return done


# -- everything --------------------------------------------------------------------------------------------------

def _span() -> tuple[datetime.datetime, datetime.datetime] | None:
    """The UTC days that hold any ticket time or any rollup row, whole days."""
    tickets = Ticket.objects.aggregate(lo=Min("created_at"), hi=Max("created_at"))
    solved = Ticket.objects.filter(status__in=SOLVED).aggregate(hi=Max("solved_at"))["hi"]
    hours = HourStats.objects.aggregate(lo=Min("hour"), hi=Max("hour"))
    days = [model.objects.aggregate(lo=Min("day"), hi=Max("day")) for model in DAILY_TABLES]
    lows = [v for v in (tickets["lo"], hours["lo"], *(_midnight(d["lo"]) for d in days if d["lo"])) if v]
    highs = [v for v in (tickets["hi"], solved, hours["hi"], *(_midnight(d["hi"]) for d in days if d["hi"])) if v]
    if not lows:
        return None
    return _midnight(min(lows).astimezone(datetime.UTC).date()), _midnight(max(highs).astimezone(datetime.UTC).date()) + DAY


def rollups_rebuild(*, since: datetime.datetime | None = None, until: datetime.datetime | None = None,
                    now: datetime.datetime | None = None,
                    progress: Callable[[int, int], None] | None = None) -> dict[str, float]:
    """Recompute every bucket (or the UTC days overlapping [since, until)), a week per transaction. A full
    rebuild marks the rollups ready: from then on the dashboard reads them for viewers who see every ticket."""
    started = timezone.now()
    now = now or started
    full = since is None and until is None
    span = _span()
    if span is None:
        start = end = _midnight(now.astimezone(datetime.UTC).date())
    else:
        start, end = span
        if since is not None:
            start = max(start, _midnight(since.astimezone(datetime.UTC).date()))
        if until is not None:
            last = until.astimezone(datetime.UTC) - datetime.timedelta(microseconds=1)
            end = min(end, _midnight(last.date()) + DAY)
    chunk = DAY * REBUILD_CHUNK_DAYS
    chunks = [(a, min(a + chunk, end)) for a in _steps(start, end, chunk)]
    for done, (a, b) in enumerate(chunks, start=1):
        _run(_hour_statements(a, b, now))
        _run(_day_statements(a.date(), b.date()))
        if progress:
            progress(done, len(chunks))
    if full:
        RollupState.objects.update_or_create(pk=1, defaults={"ready": True, "rebuilt_at": timezone.now(),
                                                              "rebuild_started_at": None})
    seconds = (timezone.now() - started).total_seconds()
    return {"days": (end - start).days, "hour_rows": HourStats.objects.count(), "seconds": round(seconds, 2)}


def _steps(start: datetime.datetime, end: datetime.datetime, step: datetime.timedelta):
    while start < end:
        yield start
        start += step


def _rebuild_if_leased(now: datetime.datetime) -> bool:
    """Run the full rebuild unless another process is running it (a lease on the state row, not a lock: a
    crashed rebuild is retried once the lease is old)."""
    RollupState.objects.get_or_create(pk=1, defaults={"ready": False})
    taken = (RollupState.objects.filter(pk=1, ready=False)
             .exclude(rebuild_started_at__gte=now - REBUILD_LEASE).update(rebuild_started_at=now))
    if not taken:
        return False
    logger.info("reports: building the rollups")
    rollups_rebuild(now=now)
    return True
