"""SLA for many back-dated tickets at once (the demo desk, tickets loaded before the first policy).

The same result as ``clocks.sla_apply_to_ticket`` ticket by ticket: each ticket's replies and status changes are
replayed in order, so a target is met, breached, paused and resumed when that happened, and the SLA events are
dated then. The difference is the cost: the histories are read in a few queries, the replay runs in memory, and
the clocks, the events and the tickets' SLA columns are written in bulk (500 demo tickets: about a second of CPU
instead of tens of seconds of per-row saves and locks).

The events are backfill (history, not news): subscribers pass over them, so no notification, escalation or rule
runs, exactly as under ``events_suppressed``. The tickets' SLA columns follow ``tickets.services.ticket_set_sla``
(``sla_due_at`` only while the status is in the open category; no version bump)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from atende.core.actor import ActorKind
from atende.rules.conditions import matches
from atende.rules.context import RuleContext
from atende.sla.business_time import CalendarSpec, add_business_time, business_time_between
from atende.sla.choices import ClockState, SlaMetric
from atende.sla.models import SlaClock, SlaPolicy
from atende.sla.selectors import calendar_for_policy
from atende.tickets.choices import MessageKind, StatusCategory, TicketEventType
from atende.tickets.models import Message, Ticket, TicketEvent, TicketSettings
from atende.tickets.states import category_of

E = TicketEventType
ZERO = dt.timedelta(0)
CHUNK = 2000  # tickets read and replayed per round: bounded memory for large imports
DUE_FIELDS = {SlaMetric.FIRST_REPLY: "first_reply_due_at", SlaMetric.NEXT_REPLY: "next_reply_due_at",
              SlaMetric.RESOLUTION: "resolution_due_at"}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


class _Replay:
    """One ticket's clocks, replayed in memory (``clocks._Clocks`` with every read answered from memory)."""

    def __init__(self, ticket: Ticket, policy: SlaPolicy, spec: CalendarSpec, on_hold_pauses: bool):
        self.ticket, self.policy, self.spec, self.on_hold_pauses = ticket, policy, spec, on_hold_pauses
        self.clocks: list[SlaClock] = []  # every clock, in creation order
        self.active: dict[str, SlaClock] = {}
        self.events: list[tuple[str, dict[str, Any], dt.datetime]] = []

    def category(self, status: str) -> str:
        return category_of(status, on_hold_pauses=self.on_hold_pauses)

    def schedule(self, clock: SlaClock) -> None:
        remaining = dt.timedelta(minutes=clock.target_minutes) - clock.consumed
        if remaining > ZERO:
            clock.due_at = add_business_time(self.spec, clock.segment_started_at, remaining)
        else:
            clock.due_at = clock.breached_at or clock.segment_started_at
        warn = self.policy.warn_before_minutes
        clock.warn_at = clock.due_at - dt.timedelta(minutes=warn) if warn and clock.warned_at is None else None

    def event(self, kind: str, clock: SlaClock, when: dt.datetime, **extra) -> None:
        self.events.append((kind, {"metric": clock.metric, "cycle": clock.cycle, "due_at": _iso(clock.due_at),
                                   "policy_id": clock.policy_id, **extra}, when))

    def start(self, metric: str, at: dt.datetime, *, paused: bool = False) -> None:
        target = self.policy.target_minutes(metric)
        if not target or metric in self.active:
            return
        cycle = 1 + max((c.cycle for c in self.clocks if c.metric == metric), default=0)
        clock = SlaClock(ticket_id=self.ticket.pk, policy=self.policy, metric=metric, cycle=cycle,
                         target_minutes=target, started_at=at, segment_started_at=None if paused else at,
                         state=ClockState.PAUSED if paused else ClockState.RUNNING)
        if not paused:
            self.schedule(clock)
        self.clocks.append(clock)
        self.active[metric] = clock

    def pause(self, clock: SlaClock, at: dt.datetime) -> None:
        if clock.state != ClockState.RUNNING:
            return
        at = max(at, clock.segment_started_at)
        clock.consumed += business_time_between(self.spec, clock.segment_started_at, at)
        clock.state, clock.segment_started_at, clock.due_at, clock.warn_at = ClockState.PAUSED, None, None, None

    def resume(self, clock: SlaClock, at: dt.datetime) -> None:
        if clock.state == ClockState.RUNNING:
            return
        clock.state, clock.segment_started_at, clock.fulfilled_at = ClockState.RUNNING, at, None
        self.schedule(clock)
        self.active[clock.metric] = clock

    def fulfil(self, clock: SlaClock, at: dt.datetime) -> None:
        if clock.state == ClockState.RUNNING:
            late = clock.due_at is not None and at > clock.due_at
            at = max(at, clock.segment_started_at)
            clock.consumed += business_time_between(self.spec, clock.segment_started_at, at)
        else:
            late = clock.consumed > dt.timedelta(minutes=clock.target_minutes)
        if late and clock.breached_at is None:
            clock.breached_at = clock.due_at or at
            self.event(E.SLA_BREACHED, clock, clock.breached_at, breached_at=_iso(clock.breached_at))
        elif clock.breached_at is None:
            self.event(E.SLA_ACHIEVED, clock, at, fulfilled_at=_iso(at))
        clock.state, clock.fulfilled_at, clock.segment_started_at = ClockState.FULFILLED, at, None
        clock.warn_at = None
        self.active.pop(clock.metric, None)

    def breach_passed(self, before: dt.datetime) -> None:
        """The breaches the minute job would have recorded before ``before``, dated at their due time."""
        for clock in list(self.active.values()):
            if clock.state == ClockState.RUNNING and clock.breached_at is None and clock.due_at and \
                    clock.due_at < before:
                clock.breached_at = clock.warned_at = clock.due_at
                clock.warn_at = None
                self.event(E.SLA_BREACHED, clock, clock.due_at, breached_at=_iso(clock.breached_at))

    def status(self, status: str, at: dt.datetime) -> None:
        category = self.category(status)
        if category == StatusCategory.RESOLVED:
            for clock in list(self.active.values()):
                self.fulfil(clock, at)
        elif category == StatusCategory.PAUSED:
            for clock in list(self.active.values()):
                self.pause(clock, at)
        else:
            for clock in list(self.active.values()):
                self.resume(clock, at)
            if SlaMetric.RESOLUTION not in self.active and self.policy.resolution_minutes:
                done = [c for c in self.clocks if c.metric == SlaMetric.RESOLUTION and c.state == ClockState.FULFILLED]
                if done:  # reopened: resolution resumes with the time it had left
                    self.resume(max(done, key=lambda c: c.cycle), at)

    def run(self, history: list[dict[str, Any]], outbound: bool, now: dt.datetime) -> None:
        ticket, policy = self.ticket, self.policy
        first_status = next((e["data"].get("old") for e in history if e["type"] == E.STATUS_CHANGED), ticket.status)
        start = ticket.created_at
        self.events.append((E.SLA_APPLIED, {"policy_id": policy.pk, "policy": policy.name, "previous_policy_id": None,
                                            "targets": {m: policy.target_minutes(m) for m in SlaMetric.values},
                                            "business_hours": policy.business_hours}, start))
        paused = self.category(first_status) == StatusCategory.PAUSED
        if not outbound:
            self.start(SlaMetric.FIRST_REPLY, start, paused=paused)
        self.start(SlaMetric.RESOLUTION, start, paused=paused)
        status = first_status
        for event in history:
            at, data = event["created_at"], event["data"] or {}
            self.breach_passed(at)
            if event["type"] == E.STATUS_CHANGED:
                status = data.get("new") or status
                self.status(status, at)
            elif data.get("author_kind") == "customer":
                first_done = outbound or any(c.metric == SlaMetric.FIRST_REPLY and c.state == ClockState.FULFILLED
                                             for c in self.clocks)
                if first_done and SlaMetric.NEXT_REPLY not in self.active:
                    self.start(SlaMetric.NEXT_REPLY, at, paused=self.category(status) != StatusCategory.OPEN)
            else:
                for metric in (SlaMetric.FIRST_REPLY, SlaMetric.NEXT_REPLY):
                    if metric in self.active:
                        self.fulfil(self.active[metric], at)
        self.breach_passed(now)
        # the ticket's columns, as ``ticket_set_sla`` writes them
        due = {m: (c.due_at if c.state == ClockState.RUNNING else None) for m, c in self.active.items()}
        ticket.sla_policy_id = policy.pk
        for metric, field in DUE_FIELDS.items():
            setattr(ticket, field, due.get(metric))
        pending = [d for d in due.values() if d]
        running = self.category(ticket.status) == StatusCategory.OPEN
        ticket.sla_due_at = min(pending) if pending and running else None


def _histories(ids: list[int], now: dt.datetime) -> tuple[dict[int, list[dict]], set[int]]:
    """Replies and status changes per ticket in order, and the tickets whose first reply is not the customer's."""
    history: dict[int, list[dict]] = defaultdict(list)
    for row in (TicketEvent.objects.filter(ticket_id__in=ids, type__in=(E.REPLY_ADDED, E.STATUS_CHANGED),
                                           created_at__lte=now)
                .order_by("ticket_id", "created_at", "id").values("ticket_id", "type", "data", "created_at")):
        history[row["ticket_id"]].append(row)
    outbound, seen = set(), set()
    for ticket_id, author_kind in (Message.objects.filter(ticket_id__in=ids, kind=MessageKind.REPLY)
                                   .order_by("ticket_id", "created_at", "id").values_list("ticket_id", "author_kind")):
        if ticket_id not in seen:
            seen.add(ticket_id)
            if author_kind != "customer":
                outbound.add(ticket_id)
    return history, outbound


def _write_tickets(tickets: list[Ticket]) -> None:
    """The SLA columns, one parametrised UPDATE run for every ticket (``bulk_update``'s CASE expressions grow
    with the batch and cost more than they save on SQLite)."""
    ops = connection.ops
    columns = [Ticket._meta.get_field(name).column for name in ("sla_policy_id", *DUE_FIELDS.values(), "sla_due_at")]
    sets = ", ".join(f"{ops.quote_name(c)} = %s" for c in columns)
    rows = [(t.sla_policy_id, *(ops.adapt_datetimefield_value(getattr(t, f)) for f in (*DUE_FIELDS.values(),
                                                                                      "sla_due_at")), t.pk)
            for t in tickets]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {ops.quote_name(Ticket._meta.db_table)} SET {sets} WHERE id = %s", rows)


@transaction.atomic
def sla_backfill(*, tickets=None, now: dt.datetime | None = None) -> int:
    """Give every ticket of ``tickets`` (a queryset; default all) that has no SLA clock yet the clocks, events and
    due times it would have had if the active policies had applied since it was created. Returns how many
    tickets got a policy. Idempotent: tickets with clocks are left alone."""
    now = now or timezone.now()
    policies = list(SlaPolicy.objects.filter(is_active=True).order_by("position", "id"))
    if not policies:
        return 0
    on_hold_pauses = TicketSettings.load().on_hold_pauses_sla
    queryset = (Ticket.objects.all() if tickets is None else tickets).exclude(
        pk__in=SlaClock.objects.values("ticket_id"))
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    specs: dict[tuple[int, int | None], CalendarSpec] = {}
    applied = 0
    for offset in range(0, len(ids), CHUNK):
        chunk = ids[offset:offset + CHUNK]
        history, outbound = _histories(chunk, now)
        replays = []
        for ticket in Ticket.objects.filter(pk__in=chunk).select_related("team").order_by("pk"):
            ctx = RuleContext(ticket, None)
            policy = next((p for p in policies if matches(p.conditions or {}, ctx)), None)
            if policy is None:
                continue
            key = (policy.pk, ticket.team_id)
            if key not in specs:
                specs[key] = calendar_for_policy(policy, ticket)
            replay = _Replay(ticket, policy, specs[key], on_hold_pauses)
            replay.run(history.get(ticket.pk, []), ticket.pk in outbound, now)
            replays.append(replay)
        SlaClock.objects.bulk_create([c for r in replays for c in r.clocks], batch_size=500)
        TicketEvent.objects.bulk_create([
            TicketEvent(ticket_id=r.ticket.pk, type=kind, actor_kind=ActorKind.SYSTEM, data=data, created_at=when,
                        backfill=True)
            for r in replays for kind, data, when in r.events], batch_size=500)
        _write_tickets([r.ticket for r in replays])
        applied += len(replays)
    return applied
