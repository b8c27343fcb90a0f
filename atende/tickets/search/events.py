"""Keeps the search index current: an events-bus handler (``core/events.py`` SYNC_HANDLERS) run after commit."""

from __future__ import annotations

from typing import Any

from atende.tickets.choices import TicketEventType
from atende.tickets.search import reindex_tickets

# Events that change what the index holds for a ticket (subject, messages, requester). Status, assignment and
# other field changes need no reindex: filters read those from the ticket row itself.
TEXT_EVENTS = frozenset({
    TicketEventType.TICKET_CREATED, TicketEventType.REPLY_ADDED, TicketEventType.NOTE_ADDED,
    TicketEventType.FIELDS_CHANGED, TicketEventType.REQUESTER_CHANGED, TicketEventType.MERGED,
    TicketEventType.MERGED_FROM, TicketEventType.PHONE_CALL_LOGGED, TicketEventType.FOLLOW_UP_CREATED,
})


def index_on_event(payload: dict[str, Any]) -> None:
    """Reindex the event's ticket when the event may have changed its searchable text."""
    ticket_id = payload.get("ticket_id")
    if not ticket_id or payload.get("type") not in TEXT_EVENTS:
        return

    reindex_tickets([int(ticket_id)])
