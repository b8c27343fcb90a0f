"""The surveys events subscriber (``core/events.py``): a ticket that is (still) solved gets its survey waiting."""

from __future__ import annotations

from typing import Any

from atende.surveys.services import survey_request_create
from atende.tickets.choices import TicketEventType, TicketStatus
from atende.tickets.models import Ticket


def surveys_on_events(events: list[dict[str, Any]]) -> None:
    solved = {e["ticket_id"] for e in events
              if e["type"] == TicketEventType.STATUS_CHANGED and (e.get("data") or {}).get("new") == TicketStatus.SOLVED}
    if not solved:
        return
    for ticket in Ticket.objects.filter(pk__in=solved).order_by("pk"):
        survey_request_create(ticket=ticket)
