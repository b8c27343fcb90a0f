"""Applying validated actions (see ``atende.rules.actions``) through the tickets services only.

Ticket changes run in the caller's transaction. Emails and webhooks become :class:`Delivery` rows in that same
transaction and are sent after commit by a task, with retries: a mail server being down never blocks or undoes
the ticket change that caused the email.

Actions that change fields, tags, notes and the status (``STAGED_ACTIONS``) are applied through
``TicketChanges`` (``actions_stage``): in memory, written with the rest of a batch. ``actions_apply`` is that
for one ticket, plus the actions that need the ticket written first (a reply, automatic assignment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from atende.core.actor import Actor
from atende.core.memo import batch_cached
from atende.rules.actions import raised_priority
from atende.rules.placeholders import render
from atende.tickets.models import Ticket

DELIVERY_TYPES = frozenset({"send_email", "webhook"})
STAGED_ACTIONS = frozenset({
    "set_priority", "raise_priority", "set_type", "set_category", "set_team", "set_assignee", "set_custom_field",
    "add_tags", "remove_tags", "add_note", "set_status", *DELIVERY_TYPES})


def actions_staged(actions: list[dict]) -> bool:
    """Whether every action can be applied in memory with a batch (no reply, no automatic assignment)."""
    return all(a.get("type") in STAGED_ACTIONS for a in actions)


@dataclass
class _Plan:
    changes: dict[str, Any] = field(default_factory=dict)
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    deliveries: list[tuple[int, dict]] = field(default_factory=list)
    status: str | None = None
    auto_assign: bool = False


def _ref(model, pk):
    """A team, user or category named by a rule: read once per batch of events."""
    return batch_cached(("automation.ref", model._meta.label, pk), lambda: model.objects.get(pk=pk))


def _plan(ticket: Ticket, actions: list[dict]) -> _Plan:
    from atende.accounts.models import Team, User
    from atende.tickets.models import Category

    plan = _Plan()
    changes = plan.changes
    for n, action in enumerate(actions):
        kind = action["type"]
        if kind == "set_priority":
            changes["priority"] = action["value"]
        elif kind == "raise_priority":
            changes["priority"] = raised_priority(changes.get("priority", ticket.priority))
        elif kind == "set_type":
            changes["type"] = action["value"]
        elif kind == "set_category":
            changes["category"] = _ref(Category, action["value"])
        elif kind == "set_team":
            changes["team"] = _ref(Team, action["value"])
        elif kind == "set_assignee":
            changes["assignee"] = _ref(User, action["value"]) if action["value"] else None
        elif kind == "set_custom_field":
            changes.setdefault("custom_fields", {})[action["key"]] = action["value"]
        elif kind == "add_tags":
            plan.add += action["value"]
        elif kind == "remove_tags":
            plan.remove += action["value"]
        elif kind == "set_status":
            plan.status = action["value"]
        elif kind == "assign_auto":
            plan.auto_assign = True
        elif kind == "add_note":
            plan.notes.append(action["body"])
        elif kind == "reply":
            plan.replies.append(action["body"])
        elif kind in DELIVERY_TYPES:
            plan.deliveries.append((n, action))
    if "custom_fields" in changes:
        changes["custom_fields"] = {**(ticket.custom_fields or {}), **changes["custom_fields"]}
    return plan


def _stage_fields(staged, ticket: Ticket, plan: _Plan, actor: Actor, origin: dict[str, Any]) -> None:

    if plan.changes:
        staged.update(ticket, actor=actor, changes=plan.changes, reason=origin.get("kind", ""))
    if plan.add or plan.remove:
        staged.set_tags(ticket, actor=actor, add=plan.add, remove=plan.remove)


def _stage_notes(staged, ticket: Ticket, plan: _Plan, actor: Actor, origin: dict[str, Any]) -> None:
    for body in plan.notes:
        text = staged.note_text(render(body, ticket=ticket, agent=actor.user))
        staged.add_note(ticket, actor=actor, body_text=text, metadata={"automation": origin})


def _delivery_items(ticket: Ticket, plan: _Plan, actor: Actor, origin: dict[str, Any]) -> list:
    from atende.automation.services.deliveries import DeliveryAction, delivery_item

    event_id = actor.source_event_id
    return [built for n, action in plan.deliveries if (built := delivery_item(DeliveryAction(
        ticket=ticket, action=action, origin=origin, agent=actor.user,
        key=f"{event_id}:{origin.get('kind')}:{origin.get('id')}:{n}" if event_id else "")))]


def actions_stage(*, staged, ticket: Ticket, actions: list[dict], actor: Actor, origin: dict[str, Any]) -> list:
    """Apply ``actions`` (all in ``STAGED_ACTIONS``) to ``ticket`` in memory through ``staged`` (a
    ``TicketChanges``), in ``actions_apply``'s order; returns the deliveries to queue, built from the ticket as
    changed. Raises DomainError with nothing of this call left in ``staged``."""
    with staged.atomic(ticket):
        plan = _plan(ticket, actions)
        _stage_fields(staged, ticket, plan, actor, origin)
        _stage_notes(staged, ticket, plan, actor, origin)
        if plan.status and plan.status != ticket.status:
            staged.transition(ticket, to=plan.status, actor=actor, reason=origin.get("kind", ""))
        return _delivery_items(ticket, plan, actor, origin)


@transaction.atomic
def actions_apply(*, ticket: Ticket, actions: list[dict], actor: Actor, origin: dict[str, Any],
                  reply_text: str = "", reply_visibility: str = "reply") -> Ticket:
    """Apply validated ``actions`` (and a macro's text) to ``ticket`` through the tickets services: a batch of
    one ticket (``actions_stage``), with a reply and automatic assignment in between where the actions have them."""
    from atende.automation.services.assignment import ticket_auto_assign
    from atende.automation.services.deliveries import deliveries_queue
    from atende.tickets.services import TicketChanges, message_add_reply

    ticket = TicketChanges.lock(ticket, related=("requester", "team", "assignee", "organization"))
    plan = _plan(ticket, actions)
    if reply_text.strip():
        (plan.notes if reply_visibility == "note" else plan.replies).append(reply_text)
    staged = TicketChanges(locked=True, tickets=[ticket])
    _stage_fields(staged, ticket, plan, actor, origin)
    if plan.auto_assign:
        staged.save()
        ticket = ticket_auto_assign(ticket=ticket, actor=actor, reassign=True) or ticket
    _stage_notes(staged, ticket, plan, actor, origin)
    staged.save()
    status = plan.status
    for i, body in enumerate(plan.replies):
        last = i == len(plan.replies) - 1
        message_add_reply(ticket=ticket, actor=actor, body_text=render(body, ticket=ticket, agent=actor.user),
                          metadata={"automation": origin}, set_status=status if last else None)
        if last:
            status = None
    ticket.refresh_from_db()
    if status and status != ticket.status:
        staged.transition(ticket, to=status, actor=actor, reason=origin.get("kind", ""))
        staged.save()
    deliveries_queue(_delivery_items(ticket, plan, actor, origin))
    return ticket
