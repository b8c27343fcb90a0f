"""The one SLA clock engine: the clocks of a set of tickets, changed in memory and written set-wise.

Both users of the clocks run on it: the live events subscriber (``clocks.sla_handle_events``: a batch of ticket
events, each handled against the ticket as it is now) and the backfill (``backfill.sla_backfill``: a ticket's
recorded history replayed in order). A :class:`ClockBatch` reads the tickets, with what the SLA needs about them,
and their clocks in one query each; the transitions below change :class:`TicketClocks` in memory; ``write`` then
saves the changed clocks (one UPDATE statement, one INSERT), the tickets' SLA columns and the SLA events through
``tickets.services.tickets_set_sla``.

The flag between the two is ``backfill``: live events are recorded now and are news (escalations, triggers and
notifications see them); backfill events are dated when the target was met or missed and are history, marked
backfill so the subscribers pass over them, as under ``events_suppressed``."""

from __future__ import annotations

import datetime as dt
import itertools
from functools import partial
from typing import Any

from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery, prefetch_related_objects
from django.utils import timezone

from atende.core.actor import Actor
from atende.core.bulk_rows import binders, bound, instance_new, rows_insert
from atende.core.events import events_suppressed
from atende.core.prepared import padded, prepared_read
from atende.rules.context import FIRST_MESSAGE_TEXT
from atende.sla.business_time import CalendarSpec, add_business_time, business_time_between
from atende.sla.choices import ClockState, SlaMetric
from atende.sla.models import SlaClock, SlaPolicy
from atende.sla.selectors import active_policies, calendar_for_policy, policy_by_id
from atende.tickets.choices import MessageKind, StatusCategory, TicketEventType
from atende.tickets.models import Message, Ticket, TicketSettings
from atende.tickets.services import tickets_set_sla
from atende.tickets.states import category_of

E = TicketEventType
ACTIVE = (ClockState.RUNNING, ClockState.PAUSED)
ZERO = dt.timedelta(0)
FIRST_REPLY_AUTHOR = "sla_first_reply_author"  # annotation: who wrote the ticket's first reply
CLOCK_UPDATE_FIELDS = ("policy", "state", "target_minutes", "segment_started_at", "consumed", "due_at", "warn_at",
                       "warned_at", "breached_at", "fulfilled_at", "updated_at")
EVENT_FIELDS = frozenset({"message", "actor_kind"})  # condition fields read from the event (``RuleContext``)
UNSAVED = 1 << 62  # sorts clocks created in memory after the saved ones, as their ids will


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def category(status: str) -> str:
    return category_of(status, on_hold_pauses=TicketSettings.load().on_hold_pauses_sla)


class TicketClocks:
    """The clocks of one ticket and the SLA events they led to, changed in memory."""

    def __init__(self, batch: ClockBatch, ticket: Ticket, clocks: list[SlaClock]):
        self.batch, self.ticket = batch, ticket
        self.all = clocks  # every clock the ticket ever had: the questions below are answered from it
        self.created: list[SlaClock] = []
        self.changed: dict[int, SlaClock] = {}
        self.events: list[tuple[str, dict[str, Any], dt.datetime | None]] = []
        self.written = False  # whether the ticket's SLA columns are to be written
        # The policy chosen for the ticket earlier in the batch (a 1-tuple): the ticket and the policies are the
        # same for the whole batch, so where the policies' conditions do not read the event, it is the answer.
        self.chosen: tuple[SlaPolicy | None] | None = None
        self.begin()

    def begin(self) -> None:
        """State for the next event, as if read afresh: the ticket's policy, the active clocks in (cycle, id)
        order (the order they are fulfilled in, hence the order of their events)."""
        self.policy: SlaPolicy | None = policy_by_id(self.ticket.sla_policy_id)
        self.spec_cache: CalendarSpec | None = None
        self.all.sort(key=lambda c: (c.cycle, c.pk or UNSAVED + self.created.index(c)))
        self.active = {c.metric: c for c in self.all if c.state in ACTIVE}

    @property
    def first_reply_by_agent(self) -> bool:
        author = getattr(self.ticket, FIRST_REPLY_AUTHOR)
        return author is not None and author != "customer"

    def had(self, metric: str, state: str | None = None) -> bool:
        return any(c.metric == metric and (state is None or c.state == state) for c in self.all)

    def last_fulfilled(self, metric: str) -> SlaClock | None:
        done = [c for c in self.all if c.metric == metric and c.state == ClockState.FULFILLED]
        return max(done, key=lambda c: c.cycle) if done else None

    # -- arithmetic -------------------------------------------------------------------------------------------
    @property
    def spec(self) -> CalendarSpec:
        if self.spec_cache is None:
            self.spec_cache = calendar_for_policy(self.policy, self.ticket) if self.policy else \
                CalendarSpec.twenty_four_seven()
        return self.spec_cache

    def _schedule(self, clock: SlaClock) -> None:
        """Due and warning times of a running clock from its current segment and what it already consumed."""
        remaining = dt.timedelta(minutes=clock.target_minutes) - clock.consumed
        if remaining > ZERO:
            clock.due_at = add_business_time(self.spec, clock.segment_started_at, remaining)
        else:  # already used up (a shorter target, or resumed after the breach): due at once
            clock.due_at = clock.breached_at or clock.segment_started_at
        warn = self.policy.warn_before_minutes if self.policy else 0
        clock.warn_at = clock.due_at - dt.timedelta(minutes=warn) if warn and clock.warned_at is None else None

    def _save(self, clock: SlaClock) -> None:
        if clock.pk is not None:
            self.changed[clock.pk] = clock

    def event(self, kind: str, data: dict[str, Any], when: dt.datetime, *, first: bool = False) -> None:
        """Live events are recorded when they are written; backfill (history) is dated ``when``."""
        entry = (kind, data, when if self.batch.backfill else None)
        if first:
            self.events.insert(0, entry)
        else:
            self.events.append(entry)

    def clock_event(self, kind: str, clock: SlaClock, when: dt.datetime, **extra) -> None:
        self.event(kind, {"metric": clock.metric, "cycle": clock.cycle, "due_at": iso(clock.due_at),
                          "policy_id": clock.policy_id, **extra}, when)

    # -- transitions of one clock -----------------------------------------------------------------------------
    def start(self, metric: str, at: dt.datetime, *, paused: bool = False) -> SlaClock | None:
        target = self.policy.target_minutes(metric) if self.policy else None
        if not target or metric in self.active:
            return None
        cycle = max((c.cycle for c in self.all if c.metric == metric), default=0) + 1
        clock = instance_new(SlaClock, ticket_id=self.ticket.pk, policy_id=self.policy.pk, metric=metric,
                             cycle=cycle, target_minutes=target, started_at=at,
                             segment_started_at=None if paused else at,
                             state=ClockState.PAUSED if paused else ClockState.RUNNING)
        if not paused:
            self._schedule(clock)
        self.created.append(clock)
        self.all.append(clock)
        self.active[metric] = clock
        return clock

    def pause(self, clock: SlaClock, at: dt.datetime) -> None:
        if clock.state != ClockState.RUNNING:
            return
        at = max(at, clock.segment_started_at)
        clock.consumed += business_time_between(self.spec, clock.segment_started_at, at)
        clock.state, clock.segment_started_at, clock.due_at, clock.warn_at = ClockState.PAUSED, None, None, None
        self._save(clock)

    def resume(self, clock: SlaClock, at: dt.datetime) -> None:
        if clock.state == ClockState.RUNNING:
            return
        clock.state, clock.segment_started_at, clock.fulfilled_at = ClockState.RUNNING, at, None
        self._schedule(clock)
        self._save(clock)
        self.active[clock.metric] = clock

    def fulfil(self, clock: SlaClock, at: dt.datetime) -> None:
        if clock.state == ClockState.RUNNING:
            late = clock.due_at is not None and at > clock.due_at
            at = max(at, clock.segment_started_at)
            clock.consumed += business_time_between(self.spec, clock.segment_started_at, at)
        else:
            late = clock.consumed > dt.timedelta(minutes=clock.target_minutes)
        if late and clock.breached_at is None:  # the minute job had not caught it yet
            clock.breached_at = clock.due_at or at
            self.clock_event(E.SLA_BREACHED, clock, clock.breached_at, breached_at=iso(clock.breached_at))
        elif clock.breached_at is None:
            self.clock_event(E.SLA_ACHIEVED, clock, at, fulfilled_at=iso(at))
        clock.state, clock.fulfilled_at, clock.segment_started_at = ClockState.FULFILLED, at, None
        clock.warn_at = None
        self._save(clock)
        self.active.pop(clock.metric, None)

    def retarget(self, clock: SlaClock) -> None:
        target = self.policy.target_minutes(clock.metric) if self.policy else None
        if not target:
            clock.state, clock.due_at, clock.warn_at = ClockState.CANCELLED, None, None
            self._save(clock)
            self.active.pop(clock.metric, None)
            return
        before = (clock.policy_id, clock.target_minutes, clock.due_at, clock.warn_at)
        clock.policy_id, clock.target_minutes = self.policy.pk, target
        if clock.state == ClockState.RUNNING:
            self._schedule(clock)
        if (clock.policy_id, clock.target_minutes, clock.due_at, clock.warn_at) != before:
            self._save(clock)  # a clock the policy leaves as it was is not written again

    def breach_passed(self, before: dt.datetime) -> None:
        """Replaying history: the breaches the minute job would have recorded before ``before``, dated at their
        due time, without warnings."""
        for clock in list(self.active.values()):
            if clock.state == ClockState.RUNNING and clock.breached_at is None and clock.due_at and \
                    clock.due_at < before:
                clock.breached_at = clock.warned_at = clock.due_at
                clock.warn_at = None
                self._save(clock)
                self.clock_event(E.SLA_BREACHED, clock, clock.due_at, breached_at=iso(clock.breached_at))

    def follow_status(self, status: str, at: dt.datetime, *, resolved_at: dt.datetime | None = None,
                      paused_at: dt.datetime | None = None) -> None:
        """Make the clocks agree with a status category: stop, pause, resume (and resume the resolution target
        with the time it had left when a solved ticket reopens)."""
        kind = category(status)
        if kind == StatusCategory.RESOLVED:
            for clock in list(self.active.values()):
                self.fulfil(clock, resolved_at or at)
        elif kind == StatusCategory.PAUSED:
            for clock in list(self.active.values()):
                self.pause(clock, paused_at or at)
        else:
            for clock in list(self.active.values()):
                self.resume(clock, at)
            if self.policy and SlaMetric.RESOLUTION not in self.active and self.policy.resolution_minutes:
                last = self.last_fulfilled(SlaMetric.RESOLUTION)
                if last is not None:
                    self.resume(last, at)

    # -- the ticket ---------------------------------------------------------------------------------------------
    def due(self) -> dict[str, dt.datetime | None]:
        return {m: (c.due_at if c.state == ClockState.RUNNING else None) for m, c in self.active.items()}

    def commit(self, *, force: bool = False) -> None:
        """The end of one event: the ticket's SLA columns follow the clocks (in memory, for the next event of
        the batch) and the events join the batch's, in order. Nothing when nothing changed."""
        t = self.ticket
        current = {"first_reply": t.first_reply_due_at, "next_reply": t.next_reply_due_at,
                   "resolution": t.resolution_due_at}
        due = self.due()
        wanted = {m: due.get(m) for m in current}
        policy_id = self.policy.pk if self.policy else None
        if not self.events and wanted == current and policy_id == t.sla_policy_id and not force:
            return
        t.sla_policy_id = policy_id
        t.first_reply_due_at, t.next_reply_due_at, t.resolution_due_at = (
            wanted["first_reply"], wanted["next_reply"], wanted["resolution"])
        self.written = True
        self.batch.events.extend((t, kind, data, when) for kind, data, when in self.events)
        self.events = []


class ClockBatch:
    """The tickets of one batch with their clocks, read in one query each, and the SLA events in order."""

    def __init__(self, ticket_ids, *, backfill: bool, lock: bool = True):
        self.backfill = backfill
        self.events: list[tuple[Ticket, str, dict[str, Any], dt.datetime | None]] = []
        # What the active policies' conditions read; "message" and "actor_kind" are the event's, not the ticket's.
        self.fields = {cond.get("field") for p in active_policies() for cond in
                       itertools.chain((p.conditions or {}).get("all") or [], (p.conditions or {}).get("any") or [])
                       if isinstance(cond, dict)}
        self.choice_reads_event = bool(self.fields & EVENT_FIELDS)
        tickets = _tickets(sorted(set(ticket_ids)), lock=lock, fields=self.fields)
        clocks: dict[int, list[SlaClock]] = {t.pk: [] for t in tickets}
        for clock in prepared_read("sla.clocks", _clocks_read, padded(list(clocks))) if clocks else ():
            clocks[clock.ticket_id].append(clock)
        self.tickets = {t.pk: TicketClocks(self, t, clocks[t.pk]) for t in tickets}

    def write(self) -> None:
        """Everything the batch changed: updated clocks first (a clock that stopped frees its metric for a new
        one), new clocks, then the tickets' columns and the events. Backfill events are history (see module)."""
        states = list(self.tickets.values())
        changed = [c for s in states for c in s.changed.values()]
        if changed:
            _update_clocks(changed)
        rows_insert(SlaClock, [c for s in states for c in s.created], ids=True)
        written = [s for s in states if s.written]
        changes = [(s.ticket, s.ticket.sla_policy_id, {"first_reply": s.ticket.first_reply_due_at,
                                                       "next_reply": s.ticket.next_reply_due_at,
                                                       "resolution": s.ticket.resolution_due_at}) for s in written]
        if self.backfill:
            with events_suppressed():
                tickets_set_sla(changes=changes, events=self.events, actor=Actor.system())
        else:
            tickets_set_sla(changes=changes, events=self.events, actor=Actor.system())
        for state in states:
            state.created, state.changed, state.written = [], {}, False
        self.events = []


def _tickets(ids: list[int], *, lock: bool, fields: set[str]) -> list[Ticket]:
    """The tickets under lock (in id order, so two batches never wait on each other crosswise), with what the
    policies' conditions (``fields``) and the first-reply rule read about them. The SQL is compiled once per
    connection for each shape (lock, what the conditions read, the padded number of ids: ``core.prepared``)."""
    body, tags = "body" in fields, "tags" in fields
    if ids and (not lock or connection.in_atomic_block):
        tickets = prepared_read(("sla.tickets", lock, body), partial(_tickets_read, lock, body), padded(ids))
    else:  # outside a transaction a locked read fails as the ORM fails it
        tickets = list(_tickets_read(lock, body, *ids))
    if tags:
        prefetch_related_objects(tickets, "tags")
    return tickets


def _tickets_read(lock: bool, body: bool, *ids: int) -> QuerySet[Ticket]:
    queryset = Ticket.objects.select_related("requester", "team").filter(pk__in=ids).order_by("pk")
    if lock:
        queryset = queryset.select_for_update(no_key=True, of=("self",))
    messages = Message.objects.filter(ticket=OuterRef("pk"))
    annotations = {FIRST_REPLY_AUTHOR: Subquery(messages.filter(kind=MessageKind.REPLY)
                                                .order_by("created_at", "id").values("author_kind")[:1])}
    if body:
        annotations[FIRST_MESSAGE_TEXT] = Subquery(messages.order_by("created_at", "id").values("body_text")[:1])
    return queryset.annotate(**annotations)


def _clocks_read(*ticket_ids: int) -> QuerySet[SlaClock]:
    return SlaClock.objects.filter(ticket_id__in=ticket_ids).order_by("ticket_id", "cycle", "id")


def _update_clocks(clocks: list[SlaClock]) -> None:
    """One parametrised UPDATE run for every changed clock (cheaper than ``bulk_update``'s CASE expressions)."""
    now = timezone.now()
    fields = [SlaClock._meta.get_field(name) for name in CLOCK_UPDATE_FIELDS]
    field_binders, ops = binders(fields, connection), connection.ops
    sets = ", ".join(f"{ops.quote_name(f.column)} = %s" for f in fields)
    for clock in clocks:
        clock.updated_at = now
    rows = [(*bound(c, fields, field_binders), c.pk) for c in clocks]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {ops.quote_name(SlaClock._meta.db_table)} SET {sets} WHERE id = %s", rows)
