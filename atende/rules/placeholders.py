"""``{{ticket.number}}``-style placeholders in canned replies, macro replies, notes and emails.

A fixed whitelist, not the Django template engine: admins write these texts, and a placeholder can only read
the few values listed here (never arbitrary attributes)."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.utils.translation import override

from atende.core.exceptions import ValidationError
from atende.tickets.selectors import recipient_language

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")


def _user_value(user, attr: str) -> str:
    if user is None:
        return ""
    return {"name": user.display_name, "first_name": user.first_name, "email": user.email}[attr]


def _ticket_value(ticket, attr: str) -> str:
    if attr == "number":
        return str(ticket.number)
    if attr == "subject":
        return ticket.subject
    if attr == "url":
        return f"{settings.SITE_URL}/tickets/{ticket.number}/"
    if attr == "team":
        return ticket.team.name if ticket.team_id else ""
    return str(getattr(ticket, f"get_{attr}_display")())  # status, priority, type


PERSON_ATTRS = ("name", "first_name", "email")
PLACEHOLDERS: tuple[str, ...] = (
    *(f"ticket.{a}" for a in ("number", "subject", "status", "priority", "type", "team", "url")),
    *(f"{who}.{a}" for who in ("requester", "agent", "assignee") for a in PERSON_ATTRS),
    "organization.name",
)


def _resolve(name: str, context: dict[str, Any]) -> str:
    ticket = context["ticket"]
    scope, attr = name.split(".", 1)
    if scope == "ticket":
        return _ticket_value(ticket, attr)
    if scope == "organization":
        return ticket.organization.name if ticket.organization_id else ""
    user = {"requester": ticket.requester, "assignee": ticket.assignee, "agent": context.get("agent")}[scope]
    return _user_value(user, attr)


def validate_placeholders(text: str, *, where: str = "Text") -> str:
    unknown = sorted({m.group(1) for m in PLACEHOLDER.finditer(text or "")} - set(PLACEHOLDERS))
    stray = re.sub(PLACEHOLDER, "", text or "")
    if unknown or "{{" in stray:
        names = ", ".join(unknown) if unknown else stray[stray.index("{{"):][:30]
        raise ValidationError(f"{where}: unknown placeholder {names}. Available: "
                              f"{', '.join('{{' + p + '}}' for p in PLACEHOLDERS)}.", code="unknown_placeholder")
    return text


def render(text: str, *, ticket, agent=None, language: str | None = None) -> str:
    """``text`` with its placeholders filled. Labels (status, priority, type) are in ``language``, by default the
    requester's (these texts are replies and mails to them), never whatever language the running thread last
    had active: a worker renders for one customer after another."""
    if "{{" not in (text or ""):  # nothing to fill: no language to look up (the requester may not be loaded)
        return text or ""
    context = {"ticket": ticket, "agent": agent}
    with override(language or recipient_language(ticket.requester if ticket.requester_id else None, ticket)):
        return PLACEHOLDER.sub(lambda m: _resolve(m.group(1), context) if m.group(1) in PLACEHOLDERS
                               else m.group(0), text or "")
