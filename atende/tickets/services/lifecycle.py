"""The one path that changes a ticket's status, and the scheduled auto-close."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from atende.core.actor import Actor
from atende.core.exceptions import Conflict, PermissionDenied, ValidationError
from atende.tickets.choices import TicketStatus
from atende.tickets.fields import missing_fields_to_solve
from atende.tickets.models import Ticket, TicketSettings
from atende.tickets.services._common import check_version, lock_ticket
from atende.tickets.services.batch import TicketChanges


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


# The moves a customer may make on their own ticket: reply to a pending or solved ticket (reopen), confirm a
# solution (close). Everything else in the table is the agents' (or the system's) decision.
CUSTOMER_MOVES = frozenset({
    (TicketStatus.PENDING, TicketStatus.OPEN),
    (TicketStatus.SOLVED, TicketStatus.OPEN),
    (TicketStatus.SOLVED, TicketStatus.CLOSED),
})


def check_actor_may_move(actor: Actor, frm: str, to: str) -> None:
    if actor.kind in ("system", "automation"):
        return
    user = actor.user
    if actor.is_customer or user is None or not user.is_staff_member:
        if (frm, to) not in CUSTOMER_MOVES:
            raise PermissionDenied("Only agents can change the status of this ticket.", code="forbidden_transition",
                                   details={"from": frm, "to": to})
        return
    if user.is_collaborator:
        raise PermissionDenied("Collaborators can only add internal notes.", code="forbidden_transition",
                               details={"from": frm, "to": to})


@transaction.atomic
def ticket_transition(*, ticket: Ticket, to: str, actor: Actor, reason: str = "", resolution_summary: str = "",
                      expected_version: int | None = None, now: datetime.datetime | None = None,
                      enforce_solve_rules: bool = True) -> Ticket:
    """Move the ticket to ``to`` if the transition table allows it (and the actor may); record STATUS_CHANGED.

    Customers may only reopen (pending/solved → open) and confirm a solution (solved → closed); collaborators
    may not change the status. Solving a problem solves its unsolved incidents in the same transaction.
    """
    if to not in TicketStatus.values:
        raise ValidationError(f"Unknown status {to!r}.", code="unknown_status", details={"status": to})
    ticket = lock_ticket(ticket)
    check_version(ticket, expected_version)
    changes = TicketChanges(locked=True, now=now)
    changes.transition(ticket, to=to, actor=actor, reason=reason, resolution_summary=resolution_summary,
                       enforce_solve_rules=enforce_solve_rules)
    changes.save()  # solving a problem solves its incidents here
    return ticket


def status_apply(ticket: Ticket, *, to: str, actor: Actor, resolution_summary: str = "",
                 enforce_solve_rules: bool = True, now: datetime.datetime) -> list[str]:
    """``ticket_transition``'s checks and change, in memory (``TicketChanges.transition`` writes it): the
    transition table, the actor, the solve rules; returns the fields changed."""
    if to not in TicketStatus.values:
        raise ValidationError(f"Unknown status {to!r}.", code="unknown_status", details={"status": to})
    to = TicketStatus(to).value
    if not ticket.can_transition_to(to):
        raise InvalidTransition(frm=ticket.status, to=to, number=ticket.number)
    check_actor_may_move(actor, ticket.status, to)
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
    return changed + ticket.apply_status(to, now=now, on_hold_pauses=config.on_hold_pauses_sla)


def solve_incidents(*, problem: Ticket, actor: Actor) -> None:
    """Incidents linked to a problem are solved with it. The problem's resolution is theirs, so their own solve
    rules (required fields, summary) do not block it: the analysis lives on the problem."""
    incidents = (Ticket.objects.filter(problem=problem).exclude(status__in=[TicketStatus.SOLVED, TicketStatus.CLOSED])
                 .order_by("pk").values_list("pk", flat=True))
    for incident_id in list(incidents):
        ticket_transition(ticket=Ticket(pk=incident_id), to=TicketStatus.SOLVED, actor=actor,
                          reason="problem_solved",
                          resolution_summary=problem.resolution_summary or f"Solved with problem #{problem.number}.",
                          enforce_solve_rules=False)


def solved_tickets_due_for_close(*, now: datetime.datetime | None = None, limit: int = 500):
    """Solved tickets past the auto-close delay, oldest first (indexed by ``(status, solved_at)``).

    A delay of 0 hours turns auto-close off."""
    hours = TicketSettings.load().autoclose_after_hours
    if not hours:
        return Ticket.objects.none()
    cutoff = (now or timezone.now()) - datetime.timedelta(hours=hours)
    return Ticket.objects.filter(status=TicketStatus.SOLVED, solved_at__lte=cutoff).order_by("solved_at", "pk")[:limit]


def tickets_autoclose(*, now: datetime.datetime | None = None, batch_size: int = 500) -> int:
    """Close tickets solved longer ago than the configured delay, each in its own transaction.

    Runs every minute from the scheduler; safe to run twice (a ticket closed or reopened meanwhile is skipped)."""
    closed = 0
    skipped: set[int] = set()
    while True:
        due = [pk for pk in solved_tickets_due_for_close(now=now, limit=batch_size + len(skipped))
               .values_list("pk", flat=True) if pk not in skipped]
        if not due:
            return closed
        for ticket_id in due:
            try:
                ticket_transition(ticket=Ticket(pk=ticket_id), to=TicketStatus.CLOSED, actor=Actor.system(),
                                  reason="auto_close", now=now)
                closed += 1
            except Conflict:
                skipped.add(ticket_id)  # reopened or closed by someone else meanwhile
