"""Keeping the search index current: ``record_event`` calls this in the change's own transaction, so the index row
commits (or rolls back) with the change and is never behind."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from atende.tickets.choices import TicketEventType
from atende.tickets.search import append_messages, reindex_tickets

# Events that change what the index holds for a ticket (subject, messages, requester). Status, assignment and
# other field changes need no reindex: filters read those from the ticket row itself.
TEXT_EVENTS = frozenset({
    TicketEventType.TICKET_CREATED, TicketEventType.REPLY_ADDED, TicketEventType.NOTE_ADDED,
    TicketEventType.FIELDS_CHANGED, TicketEventType.REQUESTER_CHANGED, TicketEventType.MERGED,
    TicketEventType.MERGED_FROM, TicketEventType.PHONE_CALL_LOGGED, TicketEventType.FOLLOW_UP_CREATED,
})
# Events that add one message to the text (the event's ``message_id``) and change nothing else in it: the new
# message's text is appended to the ticket's row instead of the row being rebuilt from every message (a long chat
# would otherwise cost more with each message).
APPENDING = {TicketEventType.REPLY_ADDED: "reply", TicketEventType.NOTE_ADDED: "note"}


def index_for_event(ticket_id: int, event_type: str, data: dict | None = None) -> None:
    """Bring the ticket's row up to date when the event may have changed its searchable text."""
    index_for_events([(ticket_id, event_type, data)])


_deferred = threading.local()


@contextmanager
def index_together() -> Iterator[None]:
    """The index rows the events recorded inside change are brought up to date once, when the block ends: put it
    inside the transaction that records them (``mail-import``'s groups), so the rows still commit with the changes.
    Each event otherwise costs a statement of its own, planned anew on PostgreSQL; at the end one statement indexes
    many tickets. An event whose savepoint was rolled back meanwhile is harmless: the rows are built from what the
    tables hold then (a ticket rolled back away gets no row, a message gone is not appended). Nested blocks index
    with the outermost; a block left by an exception indexes nothing (its transaction rolls back)."""
    if getattr(_deferred, "events", None) is not None:
        yield
        return
    _deferred.events = []
    try:
        yield
        events = _deferred.events
        _deferred.events = None
        index_for_events(events)
    finally:
        _deferred.events = None


def index_for_events(events) -> None:
    """``index_for_event`` for many ``(ticket id, event type, data or None)``, with one reindex. A ticket whose
    text events here only add messages gets those messages appended to its row, in order (the first message of
    each such ticket, then the second...), each message once (SQLite gives a rolled-back row's id to the next row:
    under ``index_together`` the same message can be named twice); a ticket whose only event here is its creation
    (recorded in the transaction that created it) has no index row to replace. Inside ``index_together`` they
    wait for its end."""
    waiting = getattr(_deferred, "events", None)
    if waiting is not None:
        waiting.extend(events)
        return
    seen: dict[int, list[tuple[str, dict]]] = {}
    for ticket_id, event_type, *rest in events:
        if event_type in TEXT_EVENTS:
            seen.setdefault(int(ticket_id), []).append((event_type, (rest[0] if rest else None) or {}))
    appends = {pk: list(dict.fromkeys((pk, int(data["message_id"]), APPENDING[kind]) for kind, data in entries))
               for pk, entries in seen.items()
               if all(kind in APPENDING and data.get("message_id") for kind, data in entries)}
    appended = _append_in_rounds(appends)
    new = frozenset(pk for pk, entries in seen.items() if {t for t, _data in entries} == {TicketEventType.TICKET_CREATED})
    reindex_tickets([pk for pk in seen if pk not in appended], new=new)


def _append_in_rounds(appends: dict[int, list[tuple[int, int, str]]]) -> set[int]:
    """Each ticket's messages appended in order, one round per rank (``append_messages`` adds one message per
    ticket); the tickets whose every message was appended. A ticket one of whose messages was left out is left
    out of the later rounds: it is rebuilt."""
    done = set(appends)
    rank = 0
    while batch := [messages[rank] for pk, messages in appends.items() if pk in done and rank < len(messages)]:
        done -= {pk for pk, _message, _kind in batch} - append_messages(batch)
        rank += 1
    return done
