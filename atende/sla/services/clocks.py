"""The SLA clocks of each ticket, driven by ticket events and by the minute job.

Per ticket and target (first reply, next reply, resolution) one :class:`SlaClock` row is active at a time. A
clock counts business time (the ticket team's calendar) or calendar time; it pauses while the ticket is in the
*paused* status category and resumes with the time it had left; reopening a solved ticket resumes the resolution
clock with its remaining time. The ticket's own due-time columns (what lists sort and filter by) are written
only through ``tickets.services.ticket_set_sla``, which also records SLA_APPLIED / SLA_ACHIEVED / SLA_WARNING /
SLA_BREACHED events."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from atende.core.actor import Actor
from atende.sla.business_time import CalendarSpec, add_business_time, business_time_between
from atende.sla.choices import ClockState, SlaMetric
from atende.sla.models import SlaClock, SlaPolicy
from atende.sla.selectors import calendar_for_policy, policy_by_id, policy_for_ticket
from atende.tickets.choices import MessageKind, StatusCategory, TicketEventType
from atende.tickets.models import Message, Ticket, TicketEvent, TicketSettings
from atende.tickets.services import ticket_set_sla
from atende.tickets.states import category_of

logger = logging.getLogger(__name__)

E = TicketEventType
POLICY_EVENTS = {E.TICKET_CREATED, E.PRIORITY_CHANGED, E.TEAM_CHANGED, E.FIELDS_CHANGED, E.TAGS_CHANGED,
                 E.REQUESTER_CHANGED}
IGNORED = {E.SLA_APPLIED, E.SLA_WARNING, E.SLA_BREACHED, E.SLA_ACHIEVED, E.AUTOMATION_APPLIED,
           E.NOTIFICATION_SENT, E.NOTIFICATION_FAILED, E.NOTE_ADDED, E.FOLLOWERS_CHANGED}
ACTIVE = (ClockState.RUNNING, ClockState.PAUSED)
ZERO = dt.timedelta(0)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


class _Clocks:
    """The clocks of one locked ticket, with the events to record once they are saved."""

    def __init__(self, ticket: Ticket):
        self.ticket = ticket
        self.policy: SlaPolicy | None = policy_by_id(ticket.sla_policy_id)
        self.spec_cache: CalendarSpec | None = None
        # Every clock the ticket ever had, read once: the questions below are answered from it.
        self.all = list(SlaClock.objects.filter(ticket=ticket).order_by("cycle", "id"))
        self.active = {c.metric: c for c in self.all if c.state in ACTIVE}
        # (type, data, when): ``when`` dates the event while replaying history, else it is recorded now
        self.events: list[tuple[str, dict[str, Any], dt.datetime | None]] = []
        self.replaying = False

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

    def _event(self, kind: str, clock: SlaClock, when: dt.datetime | None = None, **extra) -> None:
        self.events.append((kind, {"metric": clock.metric, "cycle": clock.cycle, "due_at": _iso(clock.due_at),
                                   "policy_id": clock.policy_id, **extra}, when if self.replaying else None))

    # -- transitions of one clock -----------------------------------------------------------------------------
    def start(self, metric: str, at: dt.datetime, *, paused: bool = False) -> SlaClock | None:
        target = self.policy.target_minutes(metric) if self.policy else None
        if not target or metric in self.active:
            return None
        cycle = max((c.cycle for c in self.all if c.metric == metric), default=0) + 1
        clock = SlaClock(ticket=self.ticket, policy=self.policy, metric=metric, cycle=cycle, target_minutes=target,
                         started_at=at, segment_started_at=None if paused else at,
                         state=ClockState.PAUSED if paused else ClockState.RUNNING)
        if not paused:
            self._schedule(clock)
        clock.save()
        self.all.append(clock)
        self.active[metric] = clock
        return clock

    def pause(self, clock: SlaClock, at: dt.datetime) -> None:
        if clock.state != ClockState.RUNNING:
            return
        at = max(at, clock.segment_started_at)
        clock.consumed += business_time_between(self.spec, clock.segment_started_at, at)
        clock.state, clock.segment_started_at, clock.due_at, clock.warn_at = ClockState.PAUSED, None, None, None
        clock.save()

    def resume(self, clock: SlaClock, at: dt.datetime) -> None:
        if clock.state == ClockState.RUNNING:
            return
        clock.state, clock.segment_started_at, clock.fulfilled_at = ClockState.RUNNING, at, None
        self._schedule(clock)
        clock.save()
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
            self._event(E.SLA_BREACHED, clock, clock.breached_at, breached_at=_iso(clock.breached_at))
        elif clock.breached_at is None:
            self._event(E.SLA_ACHIEVED, clock, at, fulfilled_at=_iso(at))
        clock.state, clock.fulfilled_at, clock.segment_started_at = ClockState.FULFILLED, at, None
        clock.warn_at = None
        clock.save()
        self.active.pop(clock.metric, None)

    def retarget(self, clock: SlaClock) -> None:
        target = self.policy.target_minutes(clock.metric) if self.policy else None
        if not target:
            clock.state, clock.due_at, clock.warn_at = ClockState.CANCELLED, None, None
            clock.save()
            self.active.pop(clock.metric, None)
            return
        clock.policy, clock.target_minutes = self.policy, target
        if clock.state == ClockState.RUNNING:
            self._schedule(clock)
        clock.save()

    # -- the ticket ---------------------------------------------------------------------------------------------
    def due(self) -> dict[str, dt.datetime | None]:
        return {m: (c.due_at if c.state == ClockState.RUNNING else None) for m, c in self.active.items()}

    def save(self, *, force: bool = False) -> None:
        due = self.due()
        t = self.ticket
        current = {"first_reply": t.first_reply_due_at, "next_reply": t.next_reply_due_at,
                   "resolution": t.resolution_due_at}
        wanted = {m: due.get(m) for m in current}
        policy_id = self.policy.pk if self.policy else None
        if not self.events and wanted == current and policy_id == t.sla_policy_id and not force:
            return
        events = self.events or [(None, {}, None)]
        for kind, data, when in events:
            self.ticket = ticket_set_sla(ticket=self.ticket, actor=Actor.system(), policy_id=policy_id, due=wanted,
                                         event_type=kind, data=data, event_at=when)
        self.events = []


def _category(ticket: Ticket) -> str:
    return category_of(ticket.status, on_hold_pauses=TicketSettings.load().on_hold_pauses_sla)


def _first_message_by_agent(ticket: Ticket) -> bool:
    first = Message.objects.filter(ticket=ticket, kind=MessageKind.REPLY).order_by("created_at", "id").first()
    return first is not None and first.author_kind != "customer"


def _choose_policy(clocks: _Clocks, at: dt.datetime, payload: dict | None, *, initial: bool) -> None:
    ticket = clocks.ticket
    policy = policy_for_ticket(ticket, payload=payload)
    new_id, old_id = (policy.pk if policy else None), ticket.sla_policy_id
    if new_id == old_id and not initial:
        if clocks.policy is not None:  # same policy, maybe another team calendar: recompute running clocks
            for clock in list(clocks.active.values()):
                clocks.retarget(clock)
        return
    clocks.policy, clocks.spec_cache = policy, None
    for clock in list(clocks.active.values()):
        clocks.retarget(clock)
    if policy is not None and _category(ticket) != StatusCategory.RESOLVED:
        paused = _category(ticket) == StatusCategory.PAUSED
        if ticket.first_response_at is None and not clocks.had(SlaMetric.FIRST_REPLY) and \
                not _first_message_by_agent(ticket):
            clocks.start(SlaMetric.FIRST_REPLY, ticket.created_at, paused=paused)
        if not clocks.had(SlaMetric.RESOLUTION):
            clocks.start(SlaMetric.RESOLUTION, ticket.created_at, paused=paused)
    if new_id != old_id:
        targets = {m: policy.target_minutes(m) for m in SlaMetric.values} if policy else {}
        clocks.events.insert(0, (E.SLA_APPLIED, {"policy_id": new_id, "policy": policy.name if policy else None,
                                                 "previous_policy_id": old_id, "targets": targets,
                                                 "business_hours": policy.business_hours if policy else None},
                                 at if clocks.replaying else None))


def _reconcile_status(clocks: _Clocks, at: dt.datetime) -> None:
    """Make the clocks agree with the ticket's status category (pause, resume, stop, resume on reopen)."""
    ticket = clocks.ticket
    category = _category(ticket)
    if category == StatusCategory.RESOLVED:
        done_at = ticket.solved_at or ticket.closed_at or at
        for clock in list(clocks.active.values()):
            clocks.fulfil(clock, done_at)
    elif category == StatusCategory.PAUSED:
        for clock in list(clocks.active.values()):
            clocks.pause(clock, ticket.paused_since or at)
    else:
        resume_at = ticket.status_changed_at or at
        for clock in list(clocks.active.values()):
            clocks.resume(clock, resume_at)
        if clocks.policy and SlaMetric.RESOLUTION not in clocks.active and clocks.policy.resolution_minutes:
            last = clocks.last_fulfilled(SlaMetric.RESOLUTION)
            if last is not None:  # reopened: resolution resumes with the time it had left
                clocks.policy = clocks.policy or last.policy
                clocks.resume(last, resume_at)


@transaction.atomic
def sla_handle_event(*, payload: dict[str, Any]) -> None:
    """Bring one ticket's clocks up to date with an event (idempotent: it reconciles with the ticket's state)."""
    kind = payload["type"]
    if kind in IGNORED:
        return
    ticket = (Ticket.objects.select_for_update(no_key=True, of=("self",))
              .select_related("requester", "team").filter(pk=payload["ticket_id"]).first())
    if ticket is None:
        return
    at = dt.datetime.fromisoformat(payload["created_at"])
    clocks = _Clocks(ticket)
    if kind in POLICY_EVENTS:
        _choose_policy(clocks, at, payload, initial=kind == E.TICKET_CREATED and ticket.sla_policy_id is None)
    if kind == E.REPLY_ADDED and clocks.policy is not None:
        data = payload.get("data") or {}
        if data.get("author_kind") == "customer":
            if SlaMetric.FIRST_REPLY not in clocks.active and SlaMetric.NEXT_REPLY not in clocks.active and (
                    ticket.first_response_at is not None
                    or clocks.had(SlaMetric.FIRST_REPLY)):
                clocks.start(SlaMetric.NEXT_REPLY, at, paused=_category(ticket) != StatusCategory.OPEN)
        else:
            for metric in (SlaMetric.FIRST_REPLY, SlaMetric.NEXT_REPLY):
                if metric in clocks.active:
                    clocks.fulfil(clocks.active[metric], at)
    _reconcile_status(clocks, at)
    clocks.save()


def _breach_passed(clocks: _Clocks, before: dt.datetime) -> None:
    """While replaying: the breaches the minute job would have recorded before ``before``, dated at their due
    time, without warnings (history)."""
    for clock in list(clocks.active.values()):
        if clock.state == ClockState.RUNNING and clock.breached_at is None and clock.due_at and clock.due_at < before:
            clock.breached_at = clock.warned_at = clock.due_at
            clock.warn_at = None
            clock.save()
            clocks._event(E.SLA_BREACHED, clock, clock.due_at, breached_at=_iso(clock.breached_at))


def _replay_status(clocks: _Clocks, status: str, at: dt.datetime) -> None:
    """``_reconcile_status`` for a status the ticket had at ``at`` (not necessarily the one it has now)."""
    category = category_of(status, on_hold_pauses=TicketSettings.load().on_hold_pauses_sla)
    if category == StatusCategory.RESOLVED:
        for clock in list(clocks.active.values()):
            clocks.fulfil(clock, at)
    elif category == StatusCategory.PAUSED:
        for clock in list(clocks.active.values()):
            clocks.pause(clock, at)
    else:
        for clock in list(clocks.active.values()):
            clocks.resume(clock, at)
        if SlaMetric.RESOLUTION not in clocks.active and clocks.policy.resolution_minutes:
            last = clocks.last_fulfilled(SlaMetric.RESOLUTION)
            if last is not None:  # reopened: resolution resumes with the time it had left
                clocks.resume(last, at)


@transaction.atomic
def sla_apply_to_ticket(*, ticket: Ticket, now: dt.datetime | None = None) -> None:
    """Give a ticket without SLA the clocks it would have had if its policy had applied since it was created
    (demo data, tickets created before the first policy). Its recorded replies and status changes are replayed
    in order, so each target is met, breached, paused and resumed when that happened, and the SLA events are
    dated then (a breach at its due time): reports and the timeline agree with the ticket's history. Breaches are
    history: no warning, and no escalation runs while the events are not delivered (``events_suppressed``).
    Idempotent: a ticket that already has SLA clocks is left alone."""
    ticket = Ticket.objects.select_for_update(no_key=True, of=("self",)).select_related("team").get(pk=ticket.pk)
    now = now or timezone.now()
    if SlaClock.objects.filter(ticket=ticket).exists():
        return
    clocks = _Clocks(ticket)
    clocks.replaying = True
    policy = policy_for_ticket(ticket)
    if policy is None:
        return
    history = list(TicketEvent.objects.filter(ticket=ticket, type__in=(E.REPLY_ADDED, E.STATUS_CHANGED),
                                              created_at__lte=now).order_by("created_at", "id"))
    first_status = next((e.data.get("old") for e in history if e.type == E.STATUS_CHANGED), ticket.status)
    start = ticket.created_at
    clocks.policy = policy
    clocks.events.append((E.SLA_APPLIED, {"policy_id": policy.pk, "policy": policy.name, "previous_policy_id": None,
                                          "targets": {m: policy.target_minutes(m) for m in SlaMetric.values},
                                          "business_hours": policy.business_hours}, start))
    paused = category_of(first_status, on_hold_pauses=TicketSettings.load().on_hold_pauses_sla) \
        == StatusCategory.PAUSED
    outbound = _first_message_by_agent(ticket)
    if not outbound:
        clocks.start(SlaMetric.FIRST_REPLY, start, paused=paused)
    clocks.start(SlaMetric.RESOLUTION, start, paused=paused)
    status = first_status
    for event in history:
        at = event.created_at
        _breach_passed(clocks, at)
        if event.type == E.STATUS_CHANGED:
            status = event.data.get("new") or status
            _replay_status(clocks, status, at)
        elif (event.data or {}).get("author_kind") == "customer":
            first_done = outbound or clocks.had(SlaMetric.FIRST_REPLY, ClockState.FULFILLED)
            if first_done and SlaMetric.NEXT_REPLY not in clocks.active:
                category = category_of(status, on_hold_pauses=TicketSettings.load().on_hold_pauses_sla)
                clocks.start(SlaMetric.NEXT_REPLY, at, paused=category != StatusCategory.OPEN)
        else:
            for metric in (SlaMetric.FIRST_REPLY, SlaMetric.NEXT_REPLY):
                if metric in clocks.active:
                    clocks.fulfil(clocks.active[metric], at)
    _breach_passed(clocks, now)
    clocks.save(force=True)


def _current_due(ticket: Ticket) -> dict[str, dt.datetime | None]:
    return {"first_reply": ticket.first_reply_due_at, "next_reply": ticket.next_reply_due_at,
            "resolution": ticket.resolution_due_at}


def sla_check_due(*, now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """The minute job: warn about clocks close to their due time and record breaches. Reads only due rows."""
    now = now or timezone.now()
    counts = {"warnings": 0, "breaches": 0}
    breach_ids = list(SlaClock.objects.filter(state=ClockState.RUNNING, breached_at=None, due_at__lte=now)
                      .order_by("due_at").values_list("pk", flat=True)[:limit])
    for clock_id in breach_ids:
        counts["breaches"] += _mark(clock_id, now, breach=True)
    warn_ids = list(SlaClock.objects.filter(state=ClockState.RUNNING, warned_at=None, breached_at=None,
                                            warn_at__lte=now).order_by("warn_at").values_list("pk", flat=True)[:limit])
    for clock_id in warn_ids:
        counts["warnings"] += _mark(clock_id, now, breach=False)
    return counts


@transaction.atomic
def _mark(clock_id: int, now: dt.datetime, *, breach: bool) -> int:
    clock = SlaClock.objects.select_for_update().filter(pk=clock_id, state=ClockState.RUNNING,
                                                        breached_at=None).first()
    if clock is None or (breach and (clock.due_at is None or clock.due_at > now)):
        return 0
    if not breach and (clock.warned_at is not None or clock.warn_at is None or clock.warn_at > now):
        return 0
    ticket = Ticket.objects.get(pk=clock.ticket_id)
    data = {"metric": clock.metric, "cycle": clock.cycle, "due_at": _iso(clock.due_at), "policy_id": clock.policy_id}
    if breach:
        clock.breached_at = clock.due_at
        clock.warned_at = clock.warned_at or now
        data["breached_at"] = _iso(clock.breached_at)
    else:
        clock.warned_at = now
    clock.save(update_fields=["breached_at", "warned_at", "updated_at"])
    ticket_set_sla(ticket=ticket, actor=Actor.system(), policy_id=ticket.sla_policy_id, due=_current_due(ticket),
                   event_type=E.SLA_BREACHED if breach else E.SLA_WARNING, data=data)
    return 1
