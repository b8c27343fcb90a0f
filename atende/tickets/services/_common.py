"""Pieces every ticket service shares: locking, the version check, the audit row and its publication."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from atende.core.actor import Actor
from atende.core.events import is_backfill, publish
from atende.core.exceptions import Conflict, NotFound, PermissionDenied
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.search.events import index_for_events


def lock_ticket(ticket: Ticket | int, *, related: tuple[str, ...] = ()) -> Ticket:
    """Re-read the ticket under a row lock (no-op on SQLite, whose write transactions are exclusive), with the
    ``related`` rows joined."""
    pk = ticket.pk if isinstance(ticket, Ticket) else ticket
    try:
        return Ticket.objects.select_for_update(no_key=True, of=("self",)).select_related(*related).get(pk=pk)
    except Ticket.DoesNotExist:
        raise NotFound("Ticket not found.")


def check_version(ticket: Ticket, expected_version: int | None) -> None:
    """Optimistic concurrency: refuse a change made against a stale copy of the ticket."""
    if expected_version is not None and int(expected_version) != ticket.version:
        raise Conflict(
            f"Ticket #{ticket.number} was changed by someone else since you loaded it; reload and try again.",
            code="stale_version",
            details={"expected_version": expected_version, "current_version": ticket.version},
        )


def check_not_closed(ticket: Ticket) -> None:
    if ticket.is_closed:
        raise Conflict(f"Ticket #{ticket.number} is closed and can no longer be changed.", code="ticket_closed")


def require_agent(actor: Actor, *, allow_collaborator: bool = False) -> None:
    """Customers never change ticket fields; collaborators only write internal notes."""
    if actor.kind in ("system", "automation"):
        return
    user = actor.user
    if user is None or not user.is_staff_member:
        raise PermissionDenied("Only agents can do this.")
    if user.is_collaborator and not allow_collaborator:
        raise PermissionDenied("Collaborators can only add internal notes.")


def touch(ticket: Ticket, fields: list[str], *, now=None) -> None:
    """Save the changed fields, bumping ``version`` and ``updated_at`` (every change does)."""
    ticket.version += 1
    ticket.updated_at = now or timezone.now()
    ticket.save(update_fields=sorted({*fields, "version", "updated_at"}))


def record_event(ticket: Ticket, event_type: str, *, actor: Actor, data: dict[str, Any] | None = None,
                 created_at=None) -> TicketEvent:
    """Write the audit row in the caller's transaction (the row is the outbox the events subscribers read), bring
    the ticket's search index row up to date in the same transaction, and push the change to browsers once it
    commits. Under ``events_suppressed`` (bulk loads of history) the row is backfill: subscribers pass over it and
    the loader indexes in bulk."""
    return record_events([(ticket, event_type, data, created_at)], actor=actor)[0]


def record_events(entries: list[tuple[Ticket, str, dict[str, Any], Any]], *, actor: Actor) -> list[TicketEvent]:
    """``record_event`` for many rows at once, ``(ticket, type, data, created_at or None)`` in the order they
    happened: one INSERT for the rows (their ids keep that order), one reindex for the tickets whose text
    changed, and the same pushes after commit (set-wise subscribers recording what a batch of events led to)."""
    return write_events([(ticket, event_type, data, created_at, actor)
                         for ticket, event_type, data, created_at in entries])


def write_events(entries: list[tuple[Ticket, str, dict[str, Any], Any, Actor]]) -> list[TicketEvent]:
    """``record_events`` with an actor per row ``(ticket, type, data, created_at or None, actor)``: the changes
    of a batch of rules, each acting for the event that started it."""
    assert transaction.get_connection().in_atomic_block, "record_events must run inside the service's transaction"
    if not entries:
        return []
    backfill, now = is_backfill(), timezone.now()
    # bulk_create for one row too (one write path): no model signals are used on TicketEvent.
    events = TicketEvent.objects.bulk_create([
        TicketEvent(ticket=ticket, type=event_type, actor_user=actor.user, actor_kind=actor.kind, data=data or {},
                    source_event_id=actor.source_event_id, created_at=created_at or now, backfill=backfill)
        for ticket, event_type, data, created_at, actor in entries])
    if not backfill:
        index_for_events((ticket.pk, event_type, data) for ticket, event_type, data, *_rest in entries)
        for event, (ticket, *_rest) in zip(events, entries, strict=True):
            publish(event_payload(event, ticket))
    return events


def event_payload(event: TicketEvent, ticket: Ticket) -> dict[str, Any]:
    return {
        "type": event.type,
        "event_id": event.pk,
        "ticket_id": ticket.pk,
        "ticket_number": ticket.number,
        "ticket_version": ticket.version,
        "team_id": ticket.team_id,
        "assignee_id": ticket.assignee_id,
        "requester_id": ticket.requester_id,
        "status": ticket.status,
        "actor_kind": event.actor_kind,
        "actor_user_id": event.actor_user_id,
        "source_event_id": event.source_event_id,
        "data": event.data,
        "created_at": event.created_at.isoformat(),
    }


def user_ref(user) -> dict[str, Any] | None:
    return {"id": user.pk, "name": user.display_name} if user is not None else None


def obj_ref(obj) -> dict[str, Any] | None:
    return {"id": obj.pk, "name": str(obj)} if obj is not None else None
