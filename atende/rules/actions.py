"""Actions: a list of ``{"type": ..., ...}``, validated when a rule, macro or SLA policy is saved and described
in the settings lists and the preview. Applying them is automation's (``automation.rules.actions.actions_apply``)."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _

from atende.accounts.models import Team, User
from atende.core.exceptions import ValidationError
from atende.rules.placeholders import validate_placeholders
from atende.tickets.choices import PRIORITY_RANK, TicketPriority, TicketStatus, TicketType
from atende.tickets.models import Category, CustomField
from atende.tickets.services.create import normalize_tags

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
    items = value if isinstance(value, list) else str(value or "").split(",")
    tags = normalize_tags(items)
    if not tags:
        raise ValidationError(f"{where}: give at least one tag.", code="action_invalid")
    return tags


def validate_actions(actions: Any, *, context: str) -> list[dict]:
    """Normalised actions or a ValidationError that names the faulty action and what is wrong with it."""
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
