"""SLA for back-dated tickets (the demo desk, tickets loaded before the first policy).

Each ticket's recorded replies and status changes are replayed in order on the same engine the live subscriber
uses (``engine.TicketClocks``), so a target is met, breached, paused and resumed when that happened, and the SLA
events are dated then (a breach at its due time, as the minute job would have recorded it, without warnings).
The histories are read in a few queries per chunk of tickets, the replay runs in memory, and the clocks, the
events and the tickets' SLA columns are written set-wise (500 demo tickets: about a second of CPU).

The events are backfill (history, not news): subscribers pass over them, so no notification, escalation or rule
runs, exactly as under ``events_suppressed``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone

from atende.core.memo import batch_scope
from atende.sla.choices import ClockState, SlaMetric
from atende.sla.models import SlaClock
from atende.sla.selectors import active_policies, policy_for_ticket
from atende.sla.services.engine import ClockBatch, TicketClocks, category
from atende.tickets.choices import StatusCategory, TicketEventType
from atende.tickets.models import Ticket, TicketEvent

E = TicketEventType
CHUNK = 2000  # tickets read and replayed per round: bounded memory for large imports


def _replay(clocks: TicketClocks, history: list[dict[str, Any]], now: dt.datetime) -> None:
    """One ticket's history, from its creation under ``clocks.policy`` up to ``now``."""
    ticket, policy = clocks.ticket, clocks.policy
    first_status = next((e["data"].get("old") for e in history if e["type"] == E.STATUS_CHANGED), ticket.status)
    start = ticket.created_at
    clocks.event(E.SLA_APPLIED, {"policy_id": policy.pk, "policy": policy.name, "previous_policy_id": None,
                                 "targets": {m: policy.target_minutes(m) for m in SlaMetric.values},
                                 "business_hours": policy.business_hours}, start)
    paused = category(first_status) == StatusCategory.PAUSED
    outbound = clocks.first_reply_by_agent
    if not outbound:
        clocks.start(SlaMetric.FIRST_REPLY, start, paused=paused)
    clocks.start(SlaMetric.RESOLUTION, start, paused=paused)
    status = first_status
    for event in history:
        at, data = event["created_at"], event["data"] or {}
        clocks.breach_passed(at)
        if event["type"] == E.STATUS_CHANGED:
            status = data.get("new") or status
            clocks.follow_status(status, at)
        elif data.get("author_kind") == "customer":
            first_done = outbound or clocks.had(SlaMetric.FIRST_REPLY, ClockState.FULFILLED)
            if first_done and SlaMetric.NEXT_REPLY not in clocks.active:
                clocks.start(SlaMetric.NEXT_REPLY, at, paused=category(status) != StatusCategory.OPEN)
        else:
            for metric in (SlaMetric.FIRST_REPLY, SlaMetric.NEXT_REPLY):
                if metric in clocks.active:
                    clocks.fulfil(clocks.active[metric], at)
    clocks.breach_passed(now)
    clocks.commit(force=True)


def _histories(ids: list[int], now: dt.datetime) -> dict[int, list[dict]]:
    """Replies and status changes per ticket, in order."""
    history: dict[int, list[dict]] = defaultdict(list)
    for row in (TicketEvent.objects.filter(ticket_id__in=ids, type__in=(E.REPLY_ADDED, E.STATUS_CHANGED),
                                           created_at__lte=now)
                .order_by("ticket_id", "created_at", "id").values("ticket_id", "type", "data", "created_at")):
        history[row["ticket_id"]].append(row)
    return history


@transaction.atomic
def sla_backfill(*, tickets=None, now: dt.datetime | None = None) -> int:
    """Give every ticket of ``tickets`` (a queryset; default all) that has no SLA clock yet the clocks, events and
    due times it would have had if the active policies had applied since it was created. Returns how many
    tickets got a policy. Idempotent: tickets with clocks are left alone."""
    now = now or timezone.now()
    with batch_scope():  # policies, calendars and settings read once
        if not active_policies():
            return 0
        queryset = (Ticket.objects.all() if tickets is None else tickets).exclude(
            pk__in=SlaClock.objects.values("ticket_id"))
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        applied = 0
        for offset in range(0, len(ids), CHUNK):
            chunk = ids[offset:offset + CHUNK]
            history = _histories(chunk, now)
            batch = ClockBatch(chunk, backfill=True)
            for clocks in batch.tickets.values():
                clocks.policy = policy_for_ticket(clocks.ticket)
                if clocks.policy is not None:
                    _replay(clocks, history.get(clocks.ticket.pk, []), now)
                    applied += 1
            batch.write()
        return applied
