"""The automation events subscriber (``core/events.py``): routing and assignment on creation, SLA policy actions on
warnings and breaches, triggers in order; then each ticket of the batch has its time-rule schedule brought up to
date once, with the active time rules read once per batch. Rules run once per event (the (rule, event) unique
key), so a batch delivered again changes nothing."""

from __future__ import annotations

from typing import Any

from atende.automation.models import TimeRule
from atende.automation.services.engine import routing_apply, sla_policy_actions_run, triggers_run
from atende.automation.services.time_rules import time_rules_reschedule
from atende.tickets.choices import TicketEventType
from atende.tickets.models import Ticket

# Automation's own bookkeeping events never start rules.
IGNORED_EVENTS = frozenset({
    TicketEventType.AUTOMATION_APPLIED, TicketEventType.NOTIFICATION_SENT, TicketEventType.NOTIFICATION_FAILED,
    TicketEventType.SLA_APPLIED, TicketEventType.SLA_ACHIEVED,
})


def automation_on_events(events: list[dict[str, Any]]) -> None:
    touched: list[int] = []
    for payload in events:
        kind = payload["type"]
        if kind in IGNORED_EVENTS:
            continue
        if kind == TicketEventType.TICKET_CREATED:
            routing_apply(payload)
        if kind in (TicketEventType.SLA_WARNING, TicketEventType.SLA_BREACHED):
            sla_policy_actions_run(payload)
        triggers_run(payload)
        touched.append(payload["ticket_id"])
    if not touched:
        return
    rules = list(TimeRule.objects.filter(is_active=True))
    if not rules:
        return
    for ticket in Ticket.objects.select_related("requester", "team", "assignee").filter(pk__in=set(touched)):
        time_rules_reschedule(ticket=ticket, rules=rules)
