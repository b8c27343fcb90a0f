"""Changes to a ticket's fields, assignment, tags, followers and requester. Every change is one event."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction

from atende.accounts.models import Team, User
from atende.core.actor import Actor
from atende.core.exceptions import ValidationError
from atende.core.text_hygiene import clean_line
from atende.tickets.choices import Level, StatusCategory, TicketEventType, TicketPriority, TicketType
from atende.tickets.fields import clean_custom_fields
from atende.tickets.models import Category, Ticket, TicketFollower, TicketSettings, TicketTag
from atende.tickets.services._common import (
    check_not_closed,
    check_version,
    lock_ticket,
    obj_ref,
    record_event,
    record_events,
    require_agent,
    touch,
    user_ref,
)
from atende.tickets.services.create import normalize_tags, tags_get_or_create
from atende.tickets.services.lifecycle import ticket_transition
from atende.tickets.states import category_of

_PLAIN_FIELDS = {"subject", "type", "category", "urgency", "impact", "priority", "custom_fields", "language"}
_CHOICES = {"type": TicketType, "urgency": Level, "impact": Level, "priority": TicketPriority}
_UPDATABLE = _PLAIN_FIELDS | {"team", "assignee", "tags", "status", "requester", "followers", "resolution_summary"}


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
    plain = {k: v for k, v in changes.items() if k in _PLAIN_FIELDS}
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
    # Validate every value before touching the row, so a bad value never leaves a half-applied change behind.
    for name, value in plain.items():
        allow_blank = name == "priority"  # None/"" = back to the matrix
        if name in _CHOICES and not (allow_blank and value in (None, "")) and value not in _CHOICES[name].values:
            raise ValidationError(f"Unknown {name} {value!r}.", code=f"unknown_{name}", details={name: value})
        if name == "category" and value is not None and not isinstance(value, Category):
            raise ValidationError("Unknown category.", code="unknown_category")
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    manual_before = ticket.priority_manual
    for name, value in plain.items():
        if name == "subject":
            value = clean_line(value, 255)
            if not value:
                raise ValidationError("A subject is required.", code="subject_required")
        if name == "custom_fields":
            value = clean_custom_fields(value, form=ticket.form, current=ticket.custom_fields)
        current = getattr(ticket, name)
        if name == "priority":
            if value in (None, ""):
                ticket.priority_manual = False
                value = TicketSettings.load().priority_for(plain.get("urgency", ticket.urgency),
                                                           plain.get("impact", ticket.impact))
            else:
                ticket.priority_manual = True
        if value != current:
            old[name], new[name] = _raw(current), _raw(value)
            setattr(ticket, name, value)
    if ("urgency" in new or "impact" in new) and not ticket.priority_manual and "priority" not in plain:
        derived = TicketSettings.load().priority_for(ticket.urgency, ticket.impact)
        if derived != ticket.priority:
            old["priority"], new["priority"] = ticket.priority, derived
            ticket.priority = derived
    if not new and ticket.priority_manual == manual_before:
        return ticket
    touch(ticket, [*new, "priority_manual"])
    if "priority" in new or ticket.priority_manual != manual_before:
        record_event(ticket, TicketEventType.PRIORITY_CHANGED, actor=actor,
                     data={"old": old.pop("priority", ticket.priority), "new": new.pop("priority", ticket.priority),
                           "manual": ticket.priority_manual, **event_data})
    if new:
        record_event(ticket, TicketEventType.FIELDS_CHANGED, actor=actor, data={"old": old, "new": new, **event_data})
    return ticket


def _raw(value: Any) -> Any:
    if isinstance(value, Category):
        return obj_ref(value)
    return value


@transaction.atomic
def ticket_assign(*, ticket: Ticket, actor: Actor, team: Team | None, assignee: User | None, reason: str = "",
                  expected_version: int | None = None, now: datetime.datetime | None = None,
                  event_data: dict[str, Any] | None = None) -> Ticket:
    """Set the team and/or the agent. An assignee outside the team joins the ticket's team only if a member."""
    require_agent(actor)
    ticket = lock_ticket(ticket)
    check_version(ticket, expected_version)
    check_not_closed(ticket)
    if assignee is not None and (not assignee.is_agent or not assignee.is_active):
        raise ValidationError(f"{assignee.display_name} is not an active agent.", code="assignee_not_agent")
    # Events are recorded after the row changes, so their payloads carry the new team and assignee.
    changes: list[tuple[str, dict[str, Any]]] = []
    if team != ticket.team:
        changes.append((TicketEventType.TEAM_CHANGED,
                        {"old": obj_ref(ticket.team), "new": obj_ref(team), "reason": reason, **(event_data or {})}))
        ticket.team = team
    if assignee != ticket.assignee:
        changes.append((TicketEventType.ASSIGNEE_CHANGED,
                        {"old": user_ref(ticket.assignee), "new": user_ref(assignee), "reason": reason}))
        ticket.assignee = assignee
    if changes:
        touch(ticket, ["team", "assignee"], now=now)
        for event_type, data in changes:
            record_event(ticket, event_type, actor=actor, data=data, created_at=now)
    return ticket


@transaction.atomic
def ticket_set_tags(*, ticket: Ticket, actor: Actor, tags: Iterable[str] = (), add: Iterable[str] = (),
                    remove: Iterable[str] = ()) -> Ticket:
    """Replace the tags (``tags``) or add/remove some. One TAGS_CHANGED event with what was added and removed."""
    if actor.kind not in ("system", "automation"):
        require_agent(actor)
    ticket = lock_ticket(ticket)
    check_not_closed(ticket)
    current = set(ticket.tags.values_list("name", flat=True))
    if tags or (not add and not remove):
        wanted = set(normalize_tags(tags))
    else:
        wanted = (current | set(normalize_tags(add))) - set(normalize_tags(remove))
    added, removed = sorted(wanted - current), sorted(current - wanted)
    if not added and not removed:
        return ticket
    TicketTag.objects.filter(ticket=ticket, tag__name__in=removed).delete()
    TicketTag.objects.bulk_create([TicketTag(ticket=ticket, tag=t) for t in tags_get_or_create(added)],
                                  ignore_conflicts=True)
    touch(ticket, [])
    record_event(ticket, TicketEventType.TAGS_CHANGED, actor=actor, data={"added": added, "removed": removed,
                                                                          "new": sorted(wanted)})
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
