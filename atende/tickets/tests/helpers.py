"""Test helpers: drive a ticket into a state the way users do (through the services), and read its events."""

from __future__ import annotations

from atende.core.actor import Actor
from atende.tickets.choices import TicketStatus
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.services import ticket_transition

# The shortest path from ``new`` to each status, through allowed transitions only.
PATHS: dict[str, list[str]] = {
    TicketStatus.NEW: [],
    TicketStatus.OPEN: [TicketStatus.OPEN],
    TicketStatus.PENDING: [TicketStatus.PENDING],
    TicketStatus.ON_HOLD: [TicketStatus.ON_HOLD],
    TicketStatus.SOLVED: [TicketStatus.SOLVED],
    TicketStatus.CLOSED: [TicketStatus.SOLVED, TicketStatus.CLOSED],
}


def drive_to(ticket: Ticket, status: str, *, actor: Actor | None = None, now=None) -> Ticket:
    actor = actor or Actor.system()
    for step in PATHS[status]:
        ticket = ticket_transition(ticket=ticket, to=step, actor=actor, now=now)
    ticket.refresh_from_db()
    return ticket


def event_rows(ticket: Ticket, *types: str) -> list[TicketEvent]:
    qs = TicketEvent.objects.filter(ticket=ticket).order_by("id")
    return list(qs.filter(type__in=types) if types else qs)


def event_types(ticket: Ticket) -> list[str]:
    return [e.type for e in event_rows(ticket)]
