"""Changes to a ticket's fields, assignment, tags, followers and requester. Every change is one event."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction

from atende.accounts.models import Team, User
from atende.core.actor import Actor
from atende.core.exceptions import ValidationError
from atende.tickets.choices import StatusCategory, TicketEventType
from atende.tickets.models import Ticket, TicketFollower, TicketSettings
from atende.tickets.services._common import (
    check_not_closed,
    check_version,
    lock_ticket,
    record_event,
    record_events,
    require_agent,
    touch,
    user_ref,
)
from atende.tickets.services.batch import PLAIN_FIELDS, TicketChanges
from atende.tickets.services.lifecycle import ticket_transition
from atende.tickets.states import category_of

_UPDATABLE = PLAIN_FIELDS | {"team", "assignee", "tags", "status", "requester", "followers", "resolution_summary"}


@transaction.atomic
def ticket_update(*, ticket: Ticket, actor: Actor, changes: dict[str, Any], expected_version: int | None = None,
                  reason: str = "", event_data: dict[str, Any] | None = None) -> Ticket:
    """Apply a set of changes from the side panel, the API, a macro or a rule; one event per kind of change.

    ``changes`` keys: subject, type, category, urgency, impact, priority (``None`` = back to the matrix),
    custom_fields, language, team, assignee, tags, followers, requester, status (+ resolution_summary).
    ``event_data`` is added to the data of the field, priority and team events (what made the change, e.g. the
    triage model's version and confidence), so the history can say so.
    """
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValidationError(f"Unknown ticket fields: {', '.join(sorted(unknown))}.", code="unknown_field",
                              details={"fields": sorted(unknown)})
    require_agent(actor)
    ticket = lock_ticket(ticket)
    check_version(ticket, expected_version)
    check_not_closed(ticket)
    plain = {k: v for k, v in changes.items() if k in PLAIN_FIELDS}
    if plain:
        ticket = _update_plain(ticket, actor, plain, event_data or {})
    if "requester" in changes and changes["requester"].pk != ticket.requester_id:
        ticket = ticket_change_requester(ticket=ticket, actor=actor, requester=changes["requester"])
    if "team" in changes or "assignee" in changes:
        team = changes.get("team", ticket.team)
        assignee = changes.get("assignee", ticket.assignee)
        if team != ticket.team or assignee != ticket.assignee:
            ticket = ticket_assign(ticket=ticket, actor=actor, team=team, assignee=assignee, reason=reason,
                                   event_data=event_data)
    if "tags" in changes:
        ticket = ticket_set_tags(ticket=ticket, actor=actor, tags=changes["tags"])
    if "followers" in changes:
        ticket = ticket_set_followers(ticket=ticket, actor=actor, followers=changes["followers"])
    if "status" in changes and changes["status"] and changes["status"] != ticket.status:
        ticket = ticket_transition(ticket=ticket, to=changes["status"], actor=actor, reason=reason,
                                   resolution_summary=changes.get("resolution_summary", ""))
    return ticket


def _update_plain(ticket: Ticket, actor: Actor, plain: dict[str, Any], event_data: dict[str, Any]) -> Ticket:
    changes = TicketChanges(locked=True)
    changes.fields(ticket, actor=actor, plain=plain, event_data=event_data)
    changes.save()
    return ticket


@transaction.atomic
def ticket_assign(*, ticket: Ticket, actor: Actor, team: Team | None, assignee: User | None, reason: str = "",
                  expected_version: int | None = None, now: datetime.datetime | None = None,
                  event_data: dict[str, Any] | None = None) -> Ticket:
    """Set the team and/or the agent. An assignee outside the team joins the ticket's team only if a member."""
    require_agent(actor)
    ticket = lock_ticket(ticket)
    check_version(ticket, expected_version)
    check_not_closed(ticket)
    changes = TicketChanges(locked=True, now=now)
    changes.assign(ticket, actor=actor, team=team, assignee=assignee, reason=reason, event_data=event_data)
    changes.save()
    return ticket


@transaction.atomic
def ticket_set_tags(*, ticket: Ticket, actor: Actor, tags: Iterable[str] = (), add: Iterable[str] = (),
                    remove: Iterable[str] = ()) -> Ticket:
    """Replace the tags (``tags``) or add/remove some. One TAGS_CHANGED event with what was added and removed."""
    if actor.kind not in ("system", "automation"):
        require_agent(actor)
    ticket = lock_ticket(ticket)
    changes = TicketChanges(locked=True, tickets=[ticket])
    changes.set_tags(ticket, actor=actor, tags=tags, add=add, remove=remove)
    changes.save()
    return ticket


@transaction.atomic
def ticket_set_followers(*, ticket: Ticket, actor: Actor, followers: Iterable[User] = (),
                         add: Iterable[User] = (), remove: Iterable[User] = (), reason: str = "") -> Ticket:
    """Followers (agents) and CCs (customers) kept informed of the ticket. ``reason`` (a code) says why when the
    system added them (e.g. ``email_reply``: they replied by email without being on the ticket)."""
    ticket = lock_ticket(ticket)
    check_not_closed(ticket)
    current = set(TicketFollower.objects.filter(ticket=ticket).values_list("user_id", flat=True))
    if followers or (not add and not remove):
        wanted = {u.pk for u in followers}
    else:
        wanted = (current | {u.pk for u in add}) - {u.pk for u in remove}
    wanted.discard(ticket.requester_id)
    added, removed = sorted(wanted - current), sorted(current - wanted)
    if not added and not removed:
        return ticket
    TicketFollower.objects.filter(ticket=ticket, user_id__in=removed).delete()
    TicketFollower.objects.bulk_create([TicketFollower(ticket=ticket, user_id=u) for u in added],
                                       ignore_conflicts=True)
    touch(ticket, [])
    data = {"added": added, "removed": removed, **({"reason": reason} if reason else {})}
    record_event(ticket, TicketEventType.FOLLOWERS_CHANGED, actor=actor, data=data)
    return ticket


@transaction.atomic
def ticket_change_requester(*, ticket: Ticket, actor: Actor, requester: User) -> Ticket:
    require_agent(actor)
    ticket = lock_ticket(ticket)
    check_not_closed(ticket)
    if not requester.is_active:
        raise ValidationError("The requester is inactive.", code="requester_invalid")
    old = ticket.requester
    ticket.requester = requester
    ticket.organization_id = requester.organization_id
    touch(ticket, ["requester", "organization"])
    record_event(ticket, TicketEventType.REQUESTER_CHANGED, actor=actor,
                 data={"old": user_ref(old), "new": user_ref(requester)})
    return ticket


SLA_FIELDS = ("sla_policy_id", "first_reply_due_at", "next_reply_due_at", "resolution_due_at", "sla_due_at")


def _sla_columns(ticket: Ticket, policy_id: int | None, due: dict[str, datetime.datetime | None]) -> None:
    ticket.sla_policy_id = policy_id
    ticket.first_reply_due_at = due.get("first_reply")
    ticket.next_reply_due_at = due.get("next_reply")
    ticket.resolution_due_at = due.get("resolution")
    pending = [d for d in (ticket.first_reply_due_at, ticket.next_reply_due_at, ticket.resolution_due_at) if d]
    # Only a running clock has a due time: the status must be in the open category (on hold counts as open
    # when the admin set "on hold pauses the SLA clock" off).
    running = category_of(ticket.status, on_hold_pauses=TicketSettings.load().on_hold_pauses_sla) == StatusCategory.OPEN
    ticket.sla_due_at = min(pending) if pending and running else None


@transaction.atomic
def ticket_set_sla(*, ticket: Ticket, actor: Actor, policy_id: int | None,
                   due: dict[str, datetime.datetime | None], event_type: str | None = None,
                   data: dict[str, Any] | None = None, event_at: datetime.datetime | None = None) -> Ticket:
    """The SLA app's write path: the active policy and due times (``first_reply``, ``next_reply``, ``resolution``).
    ``event_at`` dates the event when it records history (a target breached long before it is written)."""
    ticket = lock_ticket(ticket)
    _sla_columns(ticket, policy_id, due)
    # SLA bookkeeping is not a user-visible change: no version bump, so it never makes an agent's form stale.
    ticket.save(update_fields=list(SLA_FIELDS))
    if event_type:
        record_event(ticket, event_type, actor=actor, data=data or {}, created_at=event_at)
    return ticket


@transaction.atomic
def tickets_set_sla(*, changes: list[tuple[Ticket, int | None, dict[str, datetime.datetime | None]]],
                    events: list[tuple[Ticket, str, dict[str, Any], datetime.datetime | None]], actor: Actor) -> None:
    """``ticket_set_sla`` for many tickets at once (the SLA subscriber's batch, the SLA backfill): ``changes``
    are ``(ticket, policy_id, due)``, tickets the caller read under lock in this transaction; ``events`` the
    SLA events in the order they happened. One UPDATE statement run for every ticket (``bulk_update``'s CASE
    expressions grow with the batch and cost more than they save on SQLite) and one INSERT for the events."""
    for ticket, policy_id, due in changes:
        _sla_columns(ticket, policy_id, due)
    if changes:
        fields = [Ticket._meta.get_field(name) for name in SLA_FIELDS]
        ops = connection.ops
        sets = ", ".join(f"{ops.quote_name(f.column)} = %s" for f in fields)
        rows = [(*(f.get_db_prep_save(getattr(t, f.attname), connection) for f in fields), t.pk)
                for t, _p, _d in changes]
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {ops.quote_name(Ticket._meta.db_table)} SET {sets} WHERE id = %s", rows)
    record_events(events, actor=actor)
