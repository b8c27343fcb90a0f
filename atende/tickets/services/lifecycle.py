"""The one path that changes a ticket's status, and the scheduled auto-close."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from atende.core.actor import Actor
from atende.core.exceptions import Conflict, ValidationError
from atende.tickets.choices import TicketEventType, TicketStatus
from atende.tickets.fields import missing_fields_to_solve
from atende.tickets.models import Ticket, TicketSettings
from atende.tickets.services._common import check_version, lock_ticket, record_event, touch


class InvalidTransition(Conflict):
    """The status cannot move from its current value to the requested one."""

    code = "invalid_transition"

    def __init__(self, *, frm: str, to: str, number=None):
        frm_label, to_label = TicketStatus(frm).label, _status_label(to)
        where = f"Ticket #{number}" if number else "The ticket"
        super().__init__(f"{where} cannot move from {frm_label} to {to_label}.", details={"from": frm, "to": to})


def _status_label(value: str) -> str:
    try:
        return str(TicketStatus(value).label)
    except ValueError:
        return repr(value)


@transaction.atomic
def ticket_transition(*, ticket: Ticket, to: str, actor: Actor, reason: str = "", resolution_summary: str = "",
                      expected_version: int | None = None, now: datetime.datetime | None = None,
                      enforce_solve_rules: bool = True) -> Ticket:
    """Move the ticket to ``to`` if the transition table allows it; record STATUS_CHANGED."""
    if to not in TicketStatus.values:
        raise ValidationError(f"Unknown status {to!r}.", code="unknown_status", details={"status": to})
    ticket = lock_ticket(ticket)
    check_version(ticket, expected_version)
    if not ticket.can_transition_to(to):
        raise InvalidTransition(frm=ticket.status, to=to, number=ticket.number)
    config = TicketSettings.load()
    changed: list[str] = []
    if to == TicketStatus.SOLVED:
        summary = (resolution_summary or "").strip()
        if enforce_solve_rules and config.require_resolution_summary and not summary and not ticket.resolution_summary:
            raise ValidationError("A resolution summary is required to solve this ticket.", code="summary_required")
        missing = missing_fields_to_solve(ticket.custom_fields)
        if missing and enforce_solve_rules:
            raise ValidationError(
                "Fill in these fields before solving: " + ", ".join(f.label for f in missing),
                code="fields_required_to_solve", details={"fields": [f.key for f in missing]},
            )
        if summary:
            ticket.resolution_summary = summary
            changed.append("resolution_summary")
    now = now or timezone.now()
    old = ticket.status
    changed += ticket.apply_status(to, now=now, on_hold_pauses=config.on_hold_pauses_sla)
    touch(ticket, changed, now=now)
    record_event(ticket, TicketEventType.STATUS_CHANGED, actor=actor, created_at=now,
                 data={"old": old, "new": to, "reason": reason, "reopened": old == TicketStatus.SOLVED
                       and to == TicketStatus.OPEN})
    if to == TicketStatus.SOLVED and ticket.type == "problem":
        _solve_incidents(problem=ticket, actor=actor)
    return ticket


def _solve_incidents(*, problem: Ticket, actor: Actor) -> None:
    """Incidents linked to a problem are solved with it."""
    incidents = Ticket.objects.filter(problem=problem).exclude(status__in=[TicketStatus.SOLVED, TicketStatus.CLOSED])
    for incident in incidents:
        ticket_transition(ticket=incident, to=TicketStatus.SOLVED, actor=actor,
                          reason=f"problem #{problem.number} solved",
                          resolution_summary=problem.resolution_summary or f"Solved with problem #{problem.number}.")


def solved_tickets_due_for_close(*, now: datetime.datetime | None = None, limit: int = 500):
    hours = TicketSettings.load().autoclose_after_hours
    cutoff = (now or timezone.now()) - datetime.timedelta(hours=hours)
    return Ticket.objects.filter(status=TicketStatus.SOLVED, solved_at__lte=cutoff).order_by("solved_at")[:limit]


def tickets_autoclose(*, now: datetime.datetime | None = None) -> int:
    """Close tickets solved longer ago than the configured delay. Each ticket in its own transaction."""
    closed = 0
    for ticket_id in list(solved_tickets_due_for_close(now=now).values_list("id", flat=True)):
        try:
            ticket_transition(ticket=Ticket(pk=ticket_id), to=TicketStatus.CLOSED, actor=Actor.system(),
                              reason="auto_close", now=now)
            closed += 1
        except Conflict:
            continue  # reopened meanwhile
    return closed
