"""Keeping the search index current: ``record_event`` calls this in the change's own transaction, so the index row
commits (or rolls back) with the change and is never behind."""

from __future__ import annotations

from atende.tickets.choices import TicketEventType
from atende.tickets.search import reindex_tickets

# Events that change what the index holds for a ticket (subject, messages, requester). Status, assignment and
# other field changes need no reindex: filters read those from the ticket row itself.
TEXT_EVENTS = frozenset({
    TicketEventType.TICKET_CREATED, TicketEventType.REPLY_ADDED, TicketEventType.NOTE_ADDED,
    TicketEventType.FIELDS_CHANGED, TicketEventType.REQUESTER_CHANGED, TicketEventType.MERGED,
    TicketEventType.MERGED_FROM, TicketEventType.PHONE_CALL_LOGGED, TicketEventType.FOLLOW_UP_CREATED,
})


def index_for_event(ticket_id: int, event_type: str) -> None:
    """Reindex the ticket when the event may have changed its searchable text."""
    index_for_events([(ticket_id, event_type)])


def index_for_events(events) -> None:
    """``index_for_event`` for many ``(ticket id, event type)`` pairs, with one reindex. A ticket whose only
    event here is its creation (recorded in the transaction that created it) has no index row to replace."""
    types: dict[int, set[str]] = {}
    for ticket_id, event_type in events:
        if event_type in TEXT_EVENTS:
            types.setdefault(int(ticket_id), set()).add(event_type)
    new = frozenset(pk for pk, seen in types.items() if seen == {TicketEventType.TICKET_CREATED})
    reindex_tickets(list(types), new=new)
