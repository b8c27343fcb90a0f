"""The triage events subscriber (``core/events.py``, listed first so SLA, routing and triggers see the values it
applied): suggestions for every new ticket of the batch at once, and agents' corrections of suggested values."""

from __future__ import annotations

from typing import Any

from atende.core.actor import Actor
from atende.tickets.choices import TicketEventType
from atende.triage.suggestions import CORRECTION_EVENTS, triage_predict_for_tickets, triage_record_corrections

# Triage acts on new tickets and agents' corrections only: the dispatcher moves its cursor past every other event
# (the SLA's event that follows each creation among them) without a batch (``core.events.handled_types``).
EVENTS_IGNORED = frozenset(TicketEventType.values) - {TicketEventType.TICKET_CREATED, *CORRECTION_EVENTS}


def triage_on_events(events: list[dict[str, Any]]) -> None:
    for event in events:
        if event["type"] == TicketEventType.TICKET_CREATED:
            # Per ticket, so each change it applies names its own creation event as the cause (rules skip what
            # their own events caused).
            triage_predict_for_tickets(ticket_ids=[event["ticket_id"]],
                                       actor=Actor.automation(source_event_id=event["event_id"]))
    corrections = [e for e in events if e["type"] in CORRECTION_EVENTS and e.get("actor_kind") == "agent"]
    if corrections:
        triage_record_corrections(events=corrections, actor=Actor.system())
