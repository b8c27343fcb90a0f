"""Links between tickets, merging, spam, and phone calls."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from atende.core.actor import Actor
from atende.core.exceptions import Conflict, ValidationError
from atende.tickets.choices import LinkKind, MessageKind, TicketEventType, TicketStatus, TicketType
from atende.tickets.models import Attachment, Message, Ticket, TicketFollower, TicketLink
from atende.tickets.services._common import check_not_closed, lock_ticket, record_event, require_agent, touch
from atende.tickets.services.lifecycle import ticket_transition


def _lock_pair(a: Ticket, b: Ticket) -> tuple[Ticket, Ticket]:
    """Lock two tickets in a fixed (primary key) order, so two services locking the same pair never deadlock."""
    first, second = sorted([a.pk, b.pk])
    locked = {first: lock_ticket(first), second: lock_ticket(second)}
    return locked[a.pk], locked[b.pk]


def _close(ticket: Ticket, actor: Actor, reason: str) -> Ticket:
    """Close through the state machine: solve first when needed."""
    if ticket.status != TicketStatus.SOLVED:
        ticket = ticket_transition(ticket=ticket, to=TicketStatus.SOLVED, actor=actor, reason=reason,
                                   resolution_summary=ticket.resolution_summary or reason, enforce_solve_rules=False)
    return ticket_transition(ticket=ticket, to=TicketStatus.CLOSED, actor=actor, reason=reason)


@transaction.atomic
def ticket_link(*, source: Ticket, target: Ticket, kind: str, actor: Actor) -> TicketLink:
    require_agent(actor)
    if kind not in LinkKind.values:
        raise ValidationError(f"Unknown link kind {kind!r}.", code="unknown_link_kind")
    if source.pk == target.pk:
        raise ValidationError("A ticket cannot be linked to itself.", code="link_self")
    source, target = _lock_pair(source, target)
    if kind == LinkKind.PROBLEM:
        if source.type != TicketType.PROBLEM:
            raise ValidationError(f"#{source.number} is not a problem ticket.", code="not_a_problem")
        if target.type == TicketType.PROBLEM:
            raise ValidationError(f"#{target.number} is itself a problem; link incidents to it instead.",
                                  code="problem_of_problem")
        check_not_closed(target)
        if target.problem_id != source.pk:
            previous = target.problem_id
            if previous:  # an incident belongs to one problem at a time
                TicketLink.objects.filter(target=target, kind=LinkKind.PROBLEM).delete()
            target.problem = source
            touch(target, ["problem"])
            if previous:
                record_event(target, TicketEventType.LINK_REMOVED, actor=actor,
                             data={"kind": kind, "ticket": Ticket.objects.get(pk=previous).number})
    link, created = TicketLink.objects.get_or_create(source=source, target=target, kind=kind)
    if created:
        for ticket, other, direction in ((source, target, "out"), (target, source, "in")):
            record_event(ticket, TicketEventType.LINK_ADDED, actor=actor,
                         data={"kind": kind, "direction": direction, "ticket": other.number})
    return link


@transaction.atomic
def ticket_unlink(*, source: Ticket, target: Ticket, kind: str, actor: Actor) -> None:
    require_agent(actor)
    deleted, _ = TicketLink.objects.filter(source=source, target=target, kind=kind).delete()
    if not deleted:
        return
    if kind == LinkKind.PROBLEM and target.problem_id == source.pk:
        target = lock_ticket(target)
        target.problem = None
        touch(target, ["problem"])
    for ticket, other in ((source, target), (target, source)):
        record_event(ticket, TicketEventType.LINK_REMOVED, actor=actor, data={"kind": kind, "ticket": other.number})


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, actor: Actor) -> Ticket:
    """Merge ``source`` into ``target``: its messages and attachments move, its people follow the target,
    and ``source`` is closed with ``merged_into`` set. Returns the target."""
    require_agent(actor)
    if source.pk == target.pk:
        raise ValidationError("A ticket cannot be merged into itself.", code="merge_self")
    source, target = _lock_pair(source, target)
    check_not_closed(target)
    if source.is_closed:
        raise Conflict(f"Ticket #{source.number} is closed and cannot be merged.", code="ticket_closed")
    _move_incidents(source, target, actor)
    moved = Message.objects.filter(ticket=source).update(ticket=target)
    Attachment.objects.filter(ticket=source).update(ticket=target)
    people = set(TicketFollower.objects.filter(ticket=source).values_list("user_id", flat=True))
    if source.requester_id != target.requester_id:
        people.add(source.requester_id)
    people.discard(target.requester_id)
    TicketFollower.objects.bulk_create([TicketFollower(ticket=target, user_id=u) for u in people],
                                       ignore_conflicts=True)
    Message.objects.create(ticket=target, kind=MessageKind.SYSTEM, author=actor.user, author_kind=actor.kind,
                           body_text=f"Ticket #{source.number} ({source.subject}) was merged into this ticket.",
                           metadata={"merged_from": source.number})
    source.merged_into = target
    touch(source, ["merged_into"])
    touch(target, [])
    record_event(target, TicketEventType.MERGED_FROM, actor=actor, data={"source": source.number, "messages": moved})
    record_event(source, TicketEventType.MERGED, actor=actor, data={"target": target.number})
    _close(source, actor, f"merged into #{target.number}")
    return target


def _move_incidents(source: Ticket, target: Ticket, actor: Actor) -> None:
    """A merged problem hands its incidents to the target problem (or releases them), so closing the source does
    not solve incidents that are still broken."""
    incident_ids = list(Ticket.objects.filter(problem=source).order_by("pk").values_list("pk", flat=True))
    if not incident_ids:
        return
    keep = target.type == TicketType.PROBLEM
    TicketLink.objects.filter(source=source, kind=LinkKind.PROBLEM).delete()
    for incident_id in incident_ids:
        incident = target if incident_id == target.pk else lock_ticket(incident_id)
        keep_this = keep and incident is not target
        incident.problem = target if keep_this else None
        touch(incident, ["problem"])
        record_event(incident, TicketEventType.LINK_REMOVED, actor=actor,
                     data={"kind": LinkKind.PROBLEM, "ticket": source.number, "reason": "merged"})
        if keep_this:
            TicketLink.objects.get_or_create(source=target, target=incident, kind=LinkKind.PROBLEM)
            record_event(incident, TicketEventType.LINK_ADDED, actor=actor,
                         data={"kind": LinkKind.PROBLEM, "direction": "in", "ticket": target.number})


@transaction.atomic
def ticket_mark_spam(*, ticket: Ticket, actor: Actor) -> Ticket:
    require_agent(actor)
    ticket = lock_ticket(ticket)
    check_not_closed(ticket)
    ticket.is_spam = True
    touch(ticket, ["is_spam"])
    record_event(ticket, TicketEventType.MARKED_SPAM, actor=actor, data={"requester": ticket.requester_id})
    return _close(ticket, actor, "spam")


def links_for_ticket(ticket: Ticket):
    return (TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket))
            .select_related("source", "target").order_by("created_at"))
