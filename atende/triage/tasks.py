"""Triage tasks: the ticket-event subscriber (suggestions for new tickets, agents' corrections) and the hourly
check that retrains the model at night when enough new tickets have been closed."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from atende.core.actor import Actor
from atende.tickets.choices import TicketEventType
from atende.triage.services import triage_retrain_if_due
from atende.triage.suggestions import CORRECTION_EVENTS, triage_predict_for_tickets, triage_record_corrections


@task()
def triage_on_event_task(payload: dict[str, Any]) -> dict[str, Any]:
    """Subscribed to every ticket event (``core.events.TASK_SUBSCRIBERS``), listed before automation so that
    routing, assignment and triggers see the values applied automatically. Idempotent."""
    kind = payload.get("type")
    if kind == TicketEventType.TICKET_CREATED:
        stored = triage_predict_for_tickets(ticket_ids=[payload["ticket_id"]],
                                            actor=Actor.automation(source_event_id=payload.get("event_id")))
        return {"predicted": len(stored)}
    if kind in CORRECTION_EVENTS and payload.get("actor_kind") == "agent":
        return {"corrected": triage_record_corrections(events=[payload], actor=Actor.system())}
    return {}


@task()
def triage_retrain_task() -> dict[str, Any]:
    """Hourly (``core.scheduler``): retrains in the night hour when enough tickets were closed since the last
    model (``triage_retrain_if_due``)."""
    return triage_retrain_if_due(actor=Actor.system())
