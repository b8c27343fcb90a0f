"""Actions: a list of ``{"type": ..., ...}``. Validated at save time; applied through the tickets services only.

Ticket changes run in the caller's transaction. Emails and webhooks become :class:`Delivery` rows in that same
transaction and are sent after commit by a task, with retries: a mail server being down never blocks or undoes
the ticket change that caused the email."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from atende.automation.rules.placeholders import render, validate_placeholders
from atende.core.actor import Actor
from atende.core.exceptions import ValidationError
from atende.tickets.choices import PRIORITY_RANK, TicketPriority, TicketStatus, TicketType
from atende.tickets.models import Ticket

ROUTING, TRIGGER, TIME_RULE, MACRO, SLA = "routing", "trigger", "time_rule", "macro", "sla"
ALL = (ROUTING, TRIGGER, TIME_RULE, MACRO, SLA)

# type -> (label, contexts where allowed)
ACTIONS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "set_priority": (_("Set priority"), ALL),
    "raise_priority": (_("Raise priority one level"), (TRIGGER, TIME_RULE, MACRO, SLA)),
    "set_status": (_("Set status"), (TRIGGER, TIME_RULE, MACRO)),
    "set_type": (_("Set type"), ALL),
    "set_category": (_("Set category"), ALL),
    "set_team": (_("Set team"), ALL),
    "set_assignee": (_("Assign to an agent (value: agent id, or null to unassign)"), (TRIGGER, TIME_RULE, MACRO, SLA)),
    "assign_auto": (_("Assign by the team's strategy (reassigns when already assigned)"), (TRIGGER, TIME_RULE, SLA)),
    "add_tags": (_("Add tags"), ALL),
    "remove_tags": (_("Remove tags"), ALL),
    "set_custom_field": (_("Set a custom field"), ALL),
    "add_note": (_("Add an internal note"), (TRIGGER, TIME_RULE, MACRO, SLA)),
    "reply": (_("Send a public reply"), (TRIGGER, TIME_RULE, MACRO)),
    "send_email": (_("Send an email (to: requester, assignee, team or an address)"), (TRIGGER, TIME_RULE, SLA)),
    "webhook": (_("Call a webhook"), (TRIGGER, TIME_RULE, SLA)),
}
EMAIL_TARGETS = ("requester", "assignee", "team")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _require(action: dict, key: str, where: str) -> Any:
    value = action.get(key)
    if value in (None, "", []):
        raise ValidationError(f"{where}: “{action['type']}” needs “{key}”.", code="action_invalid")
    return value


def _ref(model, value, where: str, what: str):
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{where}: {what} needs an id number, not “{value}”.", code="action_invalid")
    if not model.objects.filter(pk=pk).exists():
        raise ValidationError(f"{where}: no {what} with id {pk}.", code="action_invalid")
    return pk


def _tags(value: Any, where: str) -> list[str]:
    from atende.tickets.services.create import normalize_tags

    items = value if isinstance(value, list) else str(value or "").split(",")
    tags = normalize_tags(items)
    if not tags:
        raise ValidationError(f"{where}: give at least one tag.", code="action_invalid")
    return tags


def validate_actions(actions: Any, *, context: str) -> list[dict]:
    """Normalised actions or a ValidationError that names the faulty action and what is wrong with it."""
    from atende.accounts.models import Team, User
    from atende.tickets.models import Category, CustomField

    if actions in (None, ""):
        return []
    if not isinstance(actions, list):
        raise ValidationError("Actions must be a list.", code="action_invalid")
    cleaned = []
    for i, action in enumerate(actions, start=1):
        where = f"Action {i}"
        if not isinstance(action, dict) or "type" not in action:
            raise ValidationError(f"{where} needs a “type”.", code="action_invalid")
        kind = action["type"]
        if kind not in ACTIONS:
            raise ValidationError(f"{where}: unknown action “{kind}”. Known actions: {', '.join(ACTIONS)}.",
                                  code="action_unknown", details={"type": kind})
        if context not in ACTIONS[kind][1]:
            raise ValidationError(f"{where}: “{kind}” cannot be used here.", code="action_not_allowed")
        out: dict[str, Any] = {"type": kind}
        if kind == "set_priority":
            out["value"] = _choice(_require(action, "value", where), TicketPriority, where, "priority")
        elif kind == "set_status":
            value = _choice(_require(action, "value", where), TicketStatus, where, "status")
            if value == TicketStatus.NEW:
                raise ValidationError(f"{where}: a ticket cannot be moved back to new.", code="action_invalid")
            out["value"] = value
        elif kind == "set_type":
            out["value"] = _choice(_require(action, "value", where), TicketType, where, "type")
        elif kind == "set_category":
            out["value"] = _ref(Category, _require(action, "value", where), where, "category")
        elif kind == "set_team":
            out["value"] = _ref(Team, _require(action, "value", where), where, "team")
        elif kind == "set_assignee":
            value = action.get("value")
            if value not in (None, ""):
                pk = _ref(User, value, where, "agent")
                if not User.objects.filter(pk=pk, role__in=["admin", "agent"], is_active=True).exists():
                    raise ValidationError(f"{where}: user {pk} is not an active agent.", code="action_invalid")
                value = pk
            out["value"] = value or None
        elif kind in ("add_tags", "remove_tags"):
            out["value"] = _tags(_require(action, "value", where), where)
        elif kind == "set_custom_field":
            key = _require(action, "key", where)
            if not CustomField.objects.filter(key=key).exists():
                raise ValidationError(f"{where}: unknown custom field “{key}”.", code="action_invalid")
            out["key"], out["value"] = key, action.get("value")
        elif kind in ("add_note", "reply"):
            out["body"] = validate_placeholders(str(_require(action, "body", where)), where=where)
        elif kind == "send_email":
            to = str(_require(action, "to", where)).strip()
            if to not in EMAIL_TARGETS and not _EMAIL.match(to):
                raise ValidationError(f"{where}: “to” must be requester, assignee, team or an email address.",
                                      code="action_invalid")
            out["to"] = to
            out["subject"] = validate_placeholders(str(_require(action, "subject", where)), where=where)
            out["body"] = validate_placeholders(str(_require(action, "body", where)), where=where)
        elif kind == "webhook":
            url = str(_require(action, "url", where)).strip()
            if not url.startswith(("http://", "https://")):
                raise ValidationError(f"{where}: the webhook URL must start with http:// or https://.",
                                      code="action_invalid")
            out["url"], out["secret"] = url, str(action.get("secret") or "")
        extra = set(action) - {"type", "value", "key", "body", "to", "subject", "url", "secret"}
        if extra:
            raise ValidationError(f"{where}: unexpected {', '.join(sorted(extra))} for “{kind}”.",
                                  code="action_invalid")
        cleaned.append(out)
    return cleaned


def _choice(value: Any, choices, where: str, what: str) -> str:
    if value not in choices.values:
        raise ValidationError(f"{where}: “{value}” is not a valid {what}; expected one of "
                              f"{', '.join(choices.values)}.", code="action_invalid")
    return value


def describe(action: dict) -> str:
    """One line for the preview and the settings lists."""
    label = str(ACTIONS.get(action.get("type"), (action.get("type"),))[0])
    detail = action.get("value", action.get("to", action.get("url", "")))
    if isinstance(detail, list):
        detail = ", ".join(map(str, detail))
    return f"{label}: {detail}" if detail not in (None, "") else label


def raised_priority(current: str) -> str:
    order = sorted(PRIORITY_RANK, key=PRIORITY_RANK.get)
    index = order.index(TicketPriority(current))
    return str(order[min(index + 1, len(order) - 1)])


@transaction.atomic
def actions_apply(*, ticket: Ticket, actions: list[dict], actor: Actor, origin: dict[str, Any],
                  reply_text: str = "", reply_visibility: str = "reply") -> Ticket:
    """Apply validated ``actions`` (and a macro's text) to ``ticket`` through the tickets services."""
    from atende.accounts.models import Team, User
    from atende.automation.services.assignment import ticket_auto_assign
    from atende.automation.services.deliveries import delivery_create
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
    for action in actions:
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
            deliveries.append(action)
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
    for action in deliveries:
        delivery_create(ticket=ticket, action=action, origin=origin, agent=agent)
    return ticket
