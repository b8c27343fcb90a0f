"""The automation events subscriber (``core/events.py``): routing and assignment on creation, SLA policy actions on
warnings and breaches, triggers in order; then each ticket of the batch has its time-rule schedule brought up to
date once, with the active time rules read once per batch. Rules run once per event (the (rule, event) unique
key), so a batch delivered again changes nothing."""

from __future__ import annotations

from typing import Any

from atende.automation.models import TimeRule
from atende.automation.services.engine import (
    BatchTickets,
    DeferredDeliveries,
    routing_apply,
    sla_policy_actions_run,
    triggers_run,
)
from atende.automation.services.time_rules import time_rules_reschedule_many
from atende.core.prepared import prepared_read
from atende.tickets.choices import TicketEventType

# Automation's own bookkeeping events never start rules; the dispatcher does not hand them over at all
# (``core.events.handled_types``).
EVENTS_IGNORED = IGNORED_EVENTS = frozenset({
    TicketEventType.AUTOMATION_APPLIED, TicketEventType.NOTIFICATION_SENT, TicketEventType.NOTIFICATION_FAILED,
    TicketEventType.SLA_APPLIED, TicketEventType.SLA_ACHIEVED,
})


def _active_time_rules():
    return TimeRule.objects.filter(is_active=True)


def automation_on_events(events: list[dict[str, Any]]) -> None:
    payloads = [p for p in events if p["type"] not in IGNORED_EVENTS]
    if not payloads:
        return
    # The batch's tickets are read once and rules are evaluated in memory against them.
    # Events run in stream order, so a ticket's events keep their order. Triggers that change fields, tags, notes
    # or the status apply in memory (``tickets.staged``) and those that only send are collected; runs, ticket
    # changes and deliveries are written together at the end of the batch (``DeferredDeliveries.flush``).
    tickets = BatchTickets(payloads)
    deferred = DeferredDeliveries()
    deferred.watch(payloads)
    for payload in payloads:
        kind = payload["type"]
        if kind == TicketEventType.TICKET_CREATED:
            routing_apply(payload, tickets=tickets, deferred=deferred)
        if kind in (TicketEventType.SLA_WARNING, TicketEventType.SLA_BREACHED):
            sla_policy_actions_run(payload, tickets=tickets)
        triggers_run(payload, tickets=tickets, deferred=deferred)
    deferred.flush(tickets.staged, tickets.assigner)
    rules = prepared_read("automation.time_rules", _active_time_rules, [])
    if not rules:
        return
    time_rules_reschedule_many(tickets=tickets.current(), rules=rules)
