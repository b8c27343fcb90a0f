"""Automation tasks: every ticket event (routing, triggers, SLA actions, time-rule schedules) and the minute job."""

from __future__ import annotations

import logging
from typing import Any

from django_tasks import task

from atende.automation.services.engine import routing_apply, sla_policy_actions_run, triggers_run
from atende.automation.services.time_rules import time_rule_backfill, time_rules_reschedule, time_rules_run
from atende.tickets.choices import TicketEventType
from atende.tickets.models import Ticket

logger = logging.getLogger(__name__)

# Automation's own bookkeeping events never start rules.
IGNORED_EVENTS = {TicketEventType.AUTOMATION_APPLIED, TicketEventType.NOTIFICATION_SENT,
                  TicketEventType.NOTIFICATION_FAILED, TicketEventType.SLA_APPLIED, TicketEventType.SLA_ACHIEVED}


@task()
def triggers_on_event_task(payload: dict[str, Any]) -> dict[str, Any]:
    """Subscribed to every ticket event (``core.events.TASK_SUBSCRIBERS``). Idempotent: rules run once per event."""
    result: dict[str, Any] = {}
    kind = payload.get("type")
    if kind in IGNORED_EVENTS:
        return result
    steps = []
    if kind == TicketEventType.TICKET_CREATED:
        steps.append(("routing", routing_apply))
    if kind in (TicketEventType.SLA_WARNING, TicketEventType.SLA_BREACHED):
        steps.append(("sla_actions", sla_policy_actions_run))
    steps.append(("triggers", triggers_run))
    for name, step in steps:
        try:
            result[name] = step(payload)
        except Exception:  # one step failing must not stop the others (and is logged for the operator)
            logger.exception("automation step %s failed for event %s", name, payload.get("event_id"))
    ticket = Ticket.objects.select_related("requester", "team", "assignee").filter(pk=payload["ticket_id"]).first()
    if ticket is not None:
        try:
            time_rules_reschedule(ticket=ticket)
        except Exception:
            logger.exception("time-rule rescheduling failed for ticket %s", ticket.pk)
    return result


@task()
def time_rules_run_task() -> dict[str, int]:
    """Every minute: due time rules (their emails and webhooks are retried by the outbound engine's drain)."""

    return {"time_rules": time_rules_run()}


@task()
def time_rule_backfill_task(rule_id: int) -> int:
    return time_rule_backfill(rule_id=rule_id)

