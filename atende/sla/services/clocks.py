"""The SLA clocks of each ticket, driven by ticket events and by the minute job.

Per ticket and target (first reply, next reply, resolution) one :class:`SlaClock` row is active at a time. A
clock counts business time (the ticket team's calendar) or calendar time; it pauses while the ticket is in the
*paused* status category and resumes with the time it had left; reopening a solved ticket resumes the resolution
clock with its remaining time. The ticket's own due-time columns (what lists sort and filter by) are written
only through ``tickets.services`` (``tickets_set_sla`` for a batch, ``ticket_set_sla`` for the minute job), which
also records SLA_APPLIED / SLA_ACHIEVED / SLA_WARNING / SLA_BREACHED events. The clock arithmetic is
``engine.TicketClocks``, shared with the backfill."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from atende.core.actor import Actor
from atende.sla.choices import ClockState, SlaMetric
from atende.sla.models import SlaClock
from atende.sla.selectors import policy_for_ticket
from atende.sla.services.engine import ClockBatch, TicketClocks, category
from atende.sla.services.engine import iso as _iso
from atende.tickets.choices import StatusCategory, TicketEventType
from atende.tickets.models import Ticket
from atende.tickets.services import ticket_set_sla

E = TicketEventType
POLICY_EVENTS = {E.TICKET_CREATED, E.PRIORITY_CHANGED, E.TEAM_CHANGED, E.FIELDS_CHANGED, E.TAGS_CHANGED,
                 E.REQUESTER_CHANGED}
IGNORED = {E.SLA_APPLIED, E.SLA_WARNING, E.SLA_BREACHED, E.SLA_ACHIEVED, E.AUTOMATION_APPLIED,
           E.NOTIFICATION_SENT, E.NOTIFICATION_FAILED, E.NOTE_ADDED, E.FOLLOWERS_CHANGED}


@transaction.atomic
def sla_handle_events(*, payloads: list[dict[str, Any]]) -> None:
    """Bring the clocks of a batch's tickets up to date with its events, in order per ticket (idempotent: each
    event reconciles with the ticket's state). The tickets and their clocks are read once, every event is
    handled in memory, and the batch is written with one statement per table (``engine.ClockBatch``)."""
    payloads = [p for p in payloads if p["type"] not in IGNORED]
    if not payloads:
        return
    batch = ClockBatch({p["ticket_id"] for p in payloads}, backfill=False)
    for payload in payloads:
        clocks = batch.tickets.get(payload["ticket_id"])
        if clocks is not None:  # else deleted since
            _handle(clocks, payload)
    batch.write()


def _handle(clocks: TicketClocks, payload: dict[str, Any]) -> None:
    kind, ticket = payload["type"], clocks.ticket
    at = dt.datetime.fromisoformat(payload["created_at"])
    clocks.begin()
    if kind in POLICY_EVENTS:
        _choose_policy(clocks, at, payload, initial=kind == E.TICKET_CREATED and ticket.sla_policy_id is None)
    if kind == E.REPLY_ADDED and clocks.policy is not None:
        data = payload.get("data") or {}
        if data.get("author_kind") == "customer":
            if SlaMetric.FIRST_REPLY not in clocks.active and SlaMetric.NEXT_REPLY not in clocks.active and (
                    ticket.first_response_at is not None
                    or clocks.had(SlaMetric.FIRST_REPLY)):
                clocks.start(SlaMetric.NEXT_REPLY, at, paused=category(ticket.status) != StatusCategory.OPEN)
        else:
            for metric in (SlaMetric.FIRST_REPLY, SlaMetric.NEXT_REPLY):
                if metric in clocks.active:
                    clocks.fulfil(clocks.active[metric], at)
    # The clocks follow the ticket's status as it is now (a later event of the batch may already show in it).
    clocks.follow_status(ticket.status, ticket.status_changed_at or at,
                         resolved_at=ticket.solved_at or ticket.closed_at or at, paused_at=ticket.paused_since or at)
    clocks.commit()


def _choose_policy(clocks: TicketClocks, at: dt.datetime, payload: dict | None, *, initial: bool) -> None:
    ticket = clocks.ticket
    if clocks.chosen is not None and not clocks.batch.choice_reads_event:
        policy = clocks.chosen[0]
        if not initial and _follows(clocks, policy):
            return  # chosen before in this batch, and the clocks follow it already: choosing again changes nothing
    else:
        policy = policy_for_ticket(ticket, payload=payload)
    clocks.chosen = (policy,)
    new_id, old_id = (policy.pk if policy else None), ticket.sla_policy_id
    if new_id == old_id and not initial:
        if clocks.policy is not None:  # same policy, maybe another team calendar: recompute running clocks
            for clock in list(clocks.active.values()):
                clocks.retarget(clock)
        return
    clocks.policy, clocks.spec_cache = policy, None
    for clock in list(clocks.active.values()):
        clocks.retarget(clock)
    status = category(ticket.status)
    if policy is not None and status != StatusCategory.RESOLVED:
        paused = status == StatusCategory.PAUSED
        if ticket.first_response_at is None and not clocks.had(SlaMetric.FIRST_REPLY) and \
                not clocks.first_reply_by_agent:
            clocks.start(SlaMetric.FIRST_REPLY, ticket.created_at, paused=paused)
        if not clocks.had(SlaMetric.RESOLUTION):
            clocks.start(SlaMetric.RESOLUTION, ticket.created_at, paused=paused)
    if new_id != old_id:
        targets = {m: policy.target_minutes(m) for m in SlaMetric.values} if policy else {}
        clocks.event(E.SLA_APPLIED, {"policy_id": new_id, "policy": policy.name if policy else None,
                                     "previous_policy_id": old_id, "targets": targets,
                                     "business_hours": policy.business_hours if policy else None}, at, first=True)


def _follows(clocks: TicketClocks, policy) -> bool:
    """Whether the ticket has ``policy`` and every active clock has its policy and target (scheduled in this
    batch with its calendar): what re-choosing ``policy`` would make them, hence nothing to do."""
    policy_id = policy.pk if policy else None
    if policy_id != clocks.ticket.sla_policy_id or policy_id != (clocks.policy.pk if clocks.policy else None):
        return False
    return all(policy is not None and c.policy_id == policy.pk and c.target_minutes == policy.target_minutes(c.metric)
               for c in clocks.active.values())


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
