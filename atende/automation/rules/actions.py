"""Applying validated actions (see ``atende.rules.actions``) through the tickets services only.

Ticket changes run in the caller's transaction. Emails and webhooks become :class:`Delivery` rows in that same
transaction and are sent after commit by a task, with retries: a mail server being down never blocks or undoes
the ticket change that caused the email."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from atende.core.actor import Actor
from atende.rules.actions import raised_priority
from atende.rules.placeholders import render
from atende.tickets.models import Ticket


@transaction.atomic
def actions_apply(*, ticket: Ticket, actions: list[dict], actor: Actor, origin: dict[str, Any],
                  reply_text: str = "", reply_visibility: str = "reply") -> Ticket:
    """Apply validated ``actions`` (and a macro's text) to ``ticket`` through the tickets services."""
    from atende.accounts.models import Team, User
    from atende.automation.services.assignment import ticket_auto_assign
    from atende.automation.services.deliveries import DeliveryAction, deliveries_queue, delivery_item
    from atende.tickets.models import Category
    from atende.tickets.services import (
        message_add_note,
        message_add_reply,
        ticket_set_tags,
        ticket_transition,
        ticket_update,
    )

    ticket = Ticket.objects.select_related("requester", "team", "assignee", "organization").get(pk=ticket.pk)
    agent = actor.user
    changes: dict[str, Any] = {}
    add, remove, notes, replies, deliveries = [], [], [], [], []
    status, auto_assign = None, False
    for n, action in enumerate(actions):
        kind = action["type"]
        if kind == "set_priority":
            changes["priority"] = action["value"]
        elif kind == "raise_priority":
            changes["priority"] = raised_priority(changes.get("priority", ticket.priority))
        elif kind == "set_type":
            changes["type"] = action["value"]
        elif kind == "set_category":
            changes["category"] = Category.objects.get(pk=action["value"])
        elif kind == "set_team":
            changes["team"] = Team.objects.get(pk=action["value"])
        elif kind == "set_assignee":
            changes["assignee"] = User.objects.get(pk=action["value"]) if action["value"] else None
        elif kind == "set_custom_field":
            changes.setdefault("custom_fields", {})[action["key"]] = action["value"]
        elif kind == "add_tags":
            add += action["value"]
        elif kind == "remove_tags":
            remove += action["value"]
        elif kind == "set_status":
            status = action["value"]
        elif kind == "assign_auto":
            auto_assign = True
        elif kind == "add_note":
            notes.append(action["body"])
        elif kind == "reply":
            replies.append(action["body"])
        elif kind in ("send_email", "webhook"):
            deliveries.append((n, action))
    if reply_text.strip():
        (notes if reply_visibility == "note" else replies).append(reply_text)
    if "custom_fields" in changes:
        changes["custom_fields"] = {**(ticket.custom_fields or {}), **changes["custom_fields"]}
    if changes:
        ticket = ticket_update(ticket=ticket, actor=actor, changes=changes, reason=origin.get("kind", ""))
    if add or remove:
        ticket = ticket_set_tags(ticket=ticket, actor=actor, add=add, remove=remove)
    if auto_assign:
        ticket = ticket_auto_assign(ticket=ticket, actor=actor, reassign=True) or ticket
    for body in notes:
        message_add_note(ticket=ticket, actor=actor, body_text=render(body, ticket=ticket, agent=agent),
                         metadata={"automation": origin})
    for i, body in enumerate(replies):
        last = i == len(replies) - 1
        message_add_reply(ticket=ticket, actor=actor, body_text=render(body, ticket=ticket, agent=agent),
                          metadata={"automation": origin}, set_status=status if last else None)
        if last:
            status = None
    ticket.refresh_from_db()
    if status and status != ticket.status:
        ticket = ticket_transition(ticket=ticket, to=status, actor=actor, reason=origin.get("kind", ""))
    event_id = actor.source_event_id
    items = [built for n, action in deliveries if (built := delivery_item(DeliveryAction(
        ticket=ticket, action=action, origin=origin, agent=agent,
        key=f"{event_id}:{origin.get('kind')}:{origin.get('id')}:{n}" if event_id else "")))]
    deliveries_queue(items)
    return ticket
