"""The queries behind the dashboard: each figure's measures, summed over the rollup ranges of its plan and the
live ranges (``scope.py``), keyed the same way on both sides so the two simply add up.

``Reads`` runs each query at most once per page: the summary, the daily/weekly table, the team and channel tables
all come from one grouped created-side read and one solved-side read.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from functools import cached_property

from django.db import connection
from django.db.models import Count, F, IntegerField, Q, QuerySet, Subquery, Sum
from django.db.models.expressions import RawSQL

from atende.accounts.models import User
from atende.reports.expressions import (
    DURATION_BINS,
    SLA_MEASURES,
    Buckets,
    DurationBin,
    Seconds,
    created_measures_sql,
    seconds_sql,
    sla_measures_sql,
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
    RollupState,
    bin_fields,
)
from atende.reports.selectors.scope import (
    HOUR,
    Plan,
    ReportScope,
    _merge,
    day_plan,
    hour_plan,
    live_plan,
    stale_in,
    utc_midnight,
)
from atende.sla.models import SlaClock
from atende.tickets.choices import TicketEventType, TicketStatus
from atende.tickets.models import Ticket, TicketEvent, TicketTag
from atende.tickets.selectors import ticket_list_for_user, ticket_visibility_filter
from atende.tickets.states import UNSOLVED_STATUSES

SOLVED_STATUSES = (TicketStatus.SOLVED, TicketStatus.CLOSED)
CREATED = ("created", "responded", "first_response_seconds", "reopened", *SLA_MEASURES)
SOLVED = ("solved", "resolution_seconds")
AGENT = ("responded", "first_response_seconds", "solved")
FIRST_BINS, RESOLUTION_BINS = bin_fields("first_response"), bin_fields("resolution")


def medians_supported() -> bool:
    return connection.vendor == "postgresql"


def report_ticket_base(*, user: User, scope: ReportScope) -> QuerySet[Ticket]:
    """Tickets the user may see (their teams' only, for restricted agents and collaborators), filtered by team and
    channel; spam is never counted."""
    qs = ticket_list_for_user(user=user).filter(is_spam=False)
    if scope.team_id is not None:
        qs = qs.filter(team_id=scope.team_id)
    if scope.channel:
        qs = qs.filter(channel=scope.channel)
    if scope.assignee_id is not None:
        qs = qs.filter(assignee_id=scope.assignee_id)
    return qs


def _within(field: str, ranges) -> Q | None:
    """``field`` in any of the [a, b) ranges, or None when there are none (no query to run)."""
    q = None
    for a, b in ranges:
        part = Q(**{f"{field}__gte": a, f"{field}__lt": b})
        q = part if q is None else q | part
    return q


def _days(plan: Plan) -> Q | None:
    return _within("day", [(a.date(), b.date()) for a, b in plan.days])


def _add(target: dict, row: dict, keys) -> None:
    for key in keys:
        target[key] += row.get(key) or 0


def _created_aggregates() -> dict:
    return {
        "created": Count("id"),
        "responded": Count("first_response_at"),
        "first_response_seconds": Sum(Seconds("first_response_at", "created_at")),
        "reopened": Count("id", filter=Q(reopen_count__gt=0)),
    }


def _sla_aggregates(now: datetime.datetime) -> dict:
    """``sla_measures_sql`` summed over a queryset of SLA clocks (the one definition of met and decided)."""
    alias = connection.ops.quote_name(SlaClock._meta.db_table) + "."
    return {name: Sum(RawSQL(sql, [now] * sql.count("%s"), output_field=IntegerField()))
            for name, sql in sla_measures_sql(alias).items()}


def rollups_ready() -> bool:
    return RollupState.objects.filter(pk=1, ready=True).exists()


class Reads:
    """The reads of one report (user, scope, bucket). ``source`` is "auto" (rollups when the viewer sees every
    ticket and they are built), or "live" to read everything from the ticket table (tests compare the two)."""

    def __init__(self, *, user: User, scope: ReportScope, bucket: str | None = None, source: str = "auto"):
        self.user, self.scope, self.bucket = user, scope, bucket or scope.bucket
        self.now = scope.until
        self.source = source

    # -- where from ---------------------------------------------------------------------------------------------

    @cached_property
    def restricted(self) -> bool:
        return ticket_visibility_filter(self.user) is not None

    @cached_property
    def rollups(self) -> bool:
        """Rollups hold every ticket, per team and channel: only a viewer who sees every ticket can read them, and
        not per agent (the agent filter reads the ticket table, bounded by the period like every live read)."""
        return (self.source != "live" and not self.restricted and self.scope.assignee_id is None
                and rollups_ready())

    @cached_property
    def stale_hours(self) -> set[datetime.datetime]:
        """Hours whose SLA figures a due time passed since they were computed (the partial index makes this
        nearly free: normally none, or the few the next refresh is about to recompute)."""
        if not self.rollups:
            return set()
        return set(HourStats.objects.filter(sla_next_due_at__lt=self.now).values_list("hour", flat=True).order_by())

    @cached_property
    def plan(self) -> Plan:
        return hour_plan(self.scope, self.bucket, self.stale_hours) if self.rollups else live_plan(self.scope)

    @cached_property
    def daily_plan(self) -> Plan:
        return day_plan(self.scope) if self.rollups else live_plan(self.scope)

    @cached_property
    def base(self) -> QuerySet[Ticket]:
        return report_ticket_base(user=self.user, scope=self.scope)

    def _rollup(self, model) -> QuerySet:
        qs = model.objects.all()
        if self.scope.team_id is not None:
            qs = qs.filter(team_id=self.scope.team_id)
        if self.scope.channel:
            qs = qs.filter(channel=self.scope.channel)
        return qs

    @cached_property
    def buckets(self) -> Buckets:
        return Buckets(bucket=self.bucket, since=self.scope.since, until=self.scope.until)

    def _bucket(self, column: str):
        return self.buckets.of(column)

    def _grouped_sql(self, table: str, column: str, ranges, sums: dict[str, str], *, where: str = "",
                     params: list | None = None, date_column: bool = False, join: str = "") -> list[dict]:
        """``SELECT bucket, team, channel, <sums>`` over the rows of ``table`` (alias ``t``, plus what ``join``
        adds) whose ``column`` lies in one of the ranges, grouped, in one statement whatever the number of ranges
        (the ORM would compile one per range).
        Each range must be one index range: on SQLite the ranges are a joined list (it plans a long OR of ranges
        as a scan of the table), on PostgreSQL an OR. ``params`` go with ``sums``. Only for viewers who see every
        ticket: the filters are the report's team and channel."""
        if not ranges:
            return []
        adapt = connection.ops.adapt_datefield_value if date_column else connection.ops.adapt_datetimefield_value
        params = [*(params or []), *(adapt(v) for pair in ranges for v in pair)]
        if connection.vendor == "postgresql":
            # An OR of ranges becomes a BitmapOr of index scans with good row estimates; a joined list of ranges
            # looks like a million rows to the planner, which then starts JIT compilation and parallel workers.
            joined = ""
            where += " AND (" + " OR ".join(f"(t.{column} >= %s AND t.{column} < %s)" for _ in ranges) + ")"
        else:
            bounds = " UNION ALL ".join("SELECT %s AS lo, %s AS hi" for _ in ranges)
            joined = f"JOIN ({bounds}) AS r ON t.{column} >= r.lo AND t.{column} < r.hi "
        if self.scope.team_id is not None:
            where += " AND t.team_id = %s"
            params.append(self.scope.team_id)
        if self.scope.channel:
            where += " AND t.channel = %s"
            params.append(self.scope.channel)
        bucket = self.buckets.sql(f"t.{column}", date_column=date_column)
        columns = ", ".join(f"{expression} AS {name}" for name, expression in sums.items())
        sql = (f"SELECT {bucket} AS bucket, t.team_id, t.channel, {columns} FROM {table} t {join} {joined}"
               f"WHERE 1 = 1{where} GROUP BY 1, 2, 3")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        rows = []
        for bucket, team_id, channel, *values in found:  # SQLite hands dates back as text, PostgreSQL sums as Decimal
            rows.append({"bucket": datetime.date.fromisoformat(bucket) if isinstance(bucket, str) else bucket,
                         "team_id": team_id, "channel": channel,
                         **{name: int(value or 0) for name, value in zip(sums, values, strict=True)}})
        return rows

    def _created(self, ranges) -> QuerySet[Ticket] | None:
        where = _within("created_at", ranges)
        return None if where is None else self.base.filter(where)

    def _solved(self, ranges) -> QuerySet[Ticket] | None:
        # ``status`` first lets the database use the (status, solved_at) index; a reopened ticket has no solved_at.
        where = _within("solved_at", ranges)
        return None if where is None else self.base.filter(where, status__in=SOLVED_STATUSES)

    # -- hourly figures: created and solved sides by (bucket, team, channel) ------------------------------------

    @cached_property
    def rows(self) -> dict[tuple, dict]:
        """Created-side measures (tickets created in each bucket, and their SLA clocks) and solved-side ones
        (tickets solved in it), per (bucket, team, channel): whole days from ``DayStats``, whole hours from
        ``HourStats`` (the created side of an out-of-date hour excepted), the rest from the ticket table."""
        rows: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys((*CREATED, *SOLVED), 0))

        def add(found, keys) -> None:
            for row in found:
                _add(rows[(row["bucket"], row["team_id"], row["channel"])], row, keys)

        plan, measures = self.plan, (*CREATED, *SOLVED)
        if not self.rollups:  # the ticket table only: the ORM applies the viewer's visibility rule
            group = ("bucket", "team_id", "channel")
            add(self._created(plan.live).annotate(bucket=self._bucket("created_at")).values(*group)
                .annotate(**_created_aggregates()).order_by(), CREATED)
            clocks = SlaClock.objects.filter(ticket__in=Subquery(self._created(plan.live).values("pk")))
            add(clocks.annotate(bucket=self._bucket("ticket__created_at"))
                .values("bucket", team_id=F("ticket__team_id"), channel=F("ticket__channel"))
                .annotate(**_sla_aggregates(self.now)).order_by(), SLA_MEASURES)
            add(self._solved(plan.live).annotate(bucket=self._bucket("solved_at")).values(*group)
                .annotate(solved=Count("id"), resolution_seconds=Sum(Seconds("solved_at", "created_at"))).order_by(),
                SOLVED)
            return dict(rows)
        quote = connection.ops.quote_name
        add(self._grouped_sql(quote(DayStats._meta.db_table), "day", [(a.date(), b.date()) for a, b in plan.days],
                              {k: f"SUM(t.{k})" for k in measures}, date_column=True), measures)
        stale = stale_in(plan, self.stale_hours)
        sums = {k: f"SUM(t.{k})" for k in measures}
        if stale:  # an out-of-date hour's created side is read live instead
            hours = ", ".join(f"'{connection.ops.adapt_datetimefield_value(h)}'" for h in stale)
            sums.update({k: f"SUM(CASE WHEN t.hour IN ({hours}) THEN 0 ELSE t.{k} END)" for k in CREATED})
        add(self._grouped_sql(quote(HourStats._meta.db_table), "hour", plan.hours, sums), measures)
        tickets = quote(Ticket._meta.db_table)
        now = connection.ops.adapt_datetimefield_value(self.now)
        created_live = _merge([*plan.live, *((h, h + HOUR) for h in stale)])
        add(self._grouped_sql(tickets, "created_at", created_live,
                              {k: f"SUM({sql})" for k, sql in created_measures_sql("t.").items()},
                              where=" AND NOT t.is_spam"), CREATED)
        sla = sla_measures_sql("c.")
        add(self._grouped_sql(tickets, "created_at", created_live, {k: f"SUM({sql})" for k, sql in sla.items()},
                              join=f"JOIN {quote(SlaClock._meta.db_table)} c ON c.ticket_id = t.id",
                              where=" AND NOT t.is_spam", params=[now] * sum(v.count("%s") for v in sla.values())),
            SLA_MEASURES)
        solved = ", ".join(f"'{v}'" for v in SOLVED_STATUSES)
        add(self._grouped_sql(tickets, "solved_at", plan.live,
                              {"solved": "COUNT(*)",
                               "resolution_seconds": f"SUM({seconds_sql('t.solved_at', 't.created_at')})"},
                              where=f" AND t.status IN ({solved}) AND NOT t.is_spam"), SOLVED)
        return dict(rows)

    def _events(self, event_type: str) -> QuerySet[TicketEvent]:
        scope = self.scope
        events = TicketEvent.objects.filter(type=event_type, created_at__gte=scope.since, created_at__lt=scope.until)
        if not self.restricted and scope.team_id is None and not scope.channel and scope.assignee_id is None:
            return events  # everything visible: no join needed
        return events.filter(ticket_id__in=Subquery(self.base.values("pk")))

    @cached_property
    def breaches(self) -> dict:
        """SLA breach events per bucket (always live: the event table, by ``(type, created_at)``)."""
        return {row["bucket"]: row["n"] for row in
                self._events(TicketEventType.SLA_BREACHED).annotate(bucket=self._bucket("created_at"))
                .values("bucket").annotate(n=Count("id")).order_by()}

    # -- daily figures -----------------------------------------------------------------------------------------

    def _daily_counts(self, model, key: str, measure: str, live_rows) -> dict:
        counts: dict = defaultdict(int)
        where = _days(self.daily_plan)
        if where is not None:
            for row in self._rollup(model).filter(where).values(key).annotate(n=Sum(measure)).order_by():
                counts[row[key]] += row["n"] or 0
        for row in live_rows:
            counts[row[key]] += row["n"]
        return dict(counts)

    @cached_property
    def by_category(self) -> dict[int | None, int]:
        live = self._created(self.daily_plan.live)
        rows = [] if live is None else live.values("category_id").annotate(n=Count("id")).order_by()
        return self._daily_counts(DayCategoryStats, "category_id", "created", rows)

    @cached_property
    def by_tag(self) -> dict[int, int]:
        live = self._created(self.daily_plan.live)
        rows = [] if live is None else (TicketTag.objects.filter(ticket_id__in=Subquery(live.values("pk")))
                                        .values("tag_id").annotate(n=Count("id")).order_by())
        return self._daily_counts(DayTagStats, "tag_id", "created", rows)

    @cached_property
    def by_agent(self) -> dict[int, dict]:
        """Per assignee: responded and first-response seconds (created side), solved (solved side), and on
        PostgreSQL the first-response histogram."""
        bins = medians_supported()
        rows: dict[int, dict] = defaultdict(lambda: {**dict.fromkeys(AGENT, 0), "bins": [0] * DURATION_BINS})
        where = _days(self.daily_plan)
        if where is not None:
            sums = {k: Sum(k) for k in (*AGENT, *(FIRST_BINS if bins else ()))}
            for row in self._rollup(DayAgentStats).filter(where).values("assignee_id").annotate(**sums).order_by():
                target = rows[row["assignee_id"]]
                _add(target, row, AGENT)
                if bins:
                    target["bins"] = [a + (row[f] or 0) for a, f in zip(target["bins"], FIRST_BINS, strict=True)]
        assigned = self.base.filter(assignee__isnull=False)
        live = _within("created_at", self.daily_plan.live)
        if live is not None:
            responded = assigned.filter(live, first_response_at__isnull=False)
            for row in (responded.values("assignee_id").annotate(
                    responded=Count("id"), first_response_seconds=Sum(Seconds("first_response_at", "created_at")))
                    .order_by()):
                _add(rows[row["assignee_id"]], row, ("responded", "first_response_seconds"))
            if bins:
                for row in (responded.values("assignee_id", bin=DurationBin(Seconds("first_response_at", "created_at")))
                            .annotate(n=Count("id")).order_by()):
                    rows[row["assignee_id"]]["bins"][row["bin"]] += row["n"]
            solved = assigned.filter(_within("solved_at", self.daily_plan.live), status__in=SOLVED_STATUSES)
            for row in solved.values("assignee_id").annotate(solved=Count("id")).order_by():
                rows[row["assignee_id"]]["solved"] += row["solved"]
        return dict(rows)

    @cached_property
    def histograms(self) -> dict[int | None, dict[str, list[int]]]:
        """PostgreSQL: per team, histograms of first response (created side) and resolution (solved side)."""
        hist: dict = defaultdict(lambda: {"first_response": [0] * DURATION_BINS, "resolution": [0] * DURATION_BINS})
        where = _days(self.daily_plan)
        if where is not None:
            for row in (self._rollup(DayDurationStats).filter(where).values("team_id")
                        .annotate(**{f: Sum(f) for f in (*FIRST_BINS, *RESOLUTION_BINS)}).order_by()):
                target = hist[row["team_id"]]
                for name, fields in (("first_response", FIRST_BINS), ("resolution", RESOLUTION_BINS)):
                    target[name] = [a + (row[f] or 0) for a, f in zip(target[name], fields, strict=True)]
        created = self._created(self.daily_plan.live)
        if created is not None:
            for row in (created.filter(first_response_at__isnull=False)
                        .values("team_id", bin=DurationBin(Seconds("first_response_at", "created_at")))
                        .annotate(n=Count("id")).order_by()):
                hist[row["team_id"]]["first_response"][row["bin"]] += row["n"]
            for row in (self._solved(self.daily_plan.live)
                        .values("team_id", bin=DurationBin(Seconds("solved_at", "created_at")))
                        .annotate(n=Count("id")).order_by()):
                hist[row["team_id"]]["resolution"][row["bin"]] += row["n"]
        return dict(hist)

    # -- now ---------------------------------------------------------------------------------------------------

    @cached_property
    def backlog(self) -> dict[tuple[str, str], int]:
        """Unsolved tickets right now, as ``{("status", s): n, ("priority", p): n}``: ``DayBacklog`` for tickets
        created before today (UTC), the ticket table for today's; all of it from the ticket table for restricted
        viewers."""
        counts: dict = defaultdict(int)
        unsolved = self.base.filter(status__in=UNSOLVED_STATUSES)
        if self.rollups:
            today = utc_midnight(self.now)
            totals = self._rollup(DayBacklog).filter(day__lt=today.date()).aggregate(
                **{name: Sum(name) for name in BACKLOG_FIELDS})
            for name, key in BACKLOG_FIELDS.items():
                counts[key] += totals[name] or 0
            unsolved = unsolved.filter(created_at__gte=today)
        for row in unsolved.values("status", "priority").annotate(n=Count("id")).order_by():
            counts[("status", row["status"])] += row["n"]
            counts[("priority", row["priority"])] += row["n"]
        return dict(counts)
