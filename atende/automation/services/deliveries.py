"""Emails and webhooks sent by automations: queued in the change's transaction through the email channel's
``mail_queue`` and integrations' ``webhook_deliver_adhoc``, so the outbound engine sends them after commit, with
its retries, attempt log and give-up (docs/architecture.md, "Outbound deliveries")."""

from __future__ import annotations

from typing import Any

from atende.email_channel.services.outbound import mail_queue
from atende.integrations.services import webhook_deliver_adhoc
from atende.outbound.models import Delivery
from atende.rules.placeholders import render
from atende.tickets.models import Ticket

SOURCE = "automation"


def _recipients(ticket: Ticket, to: str) -> list[str]:
    if to == "requester":
        return [ticket.requester.email] if ticket.requester.email else []
    if to == "assignee":
        return [ticket.assignee.email] if ticket.assignee_id else []
    if to == "team":
        if not ticket.team_id:
            return []
        if ticket.team.email:
            return [ticket.team.email]
        return list(ticket.team.members.filter(is_active=True).values_list("email", flat=True))
    return [to]


def delivery_create(*, ticket: Ticket, action: dict[str, Any], origin: dict[str, Any], agent=None) -> Delivery | None:
    """Queue the action's email or webhook call in the current transaction (``actions_apply``'s)."""
    if action["type"] == "send_email":
        recipients = _recipients(ticket, action["to"])
        if not recipients:
            return None
        return mail_queue(to=recipients, subject=render(action["subject"], ticket=ticket, agent=agent),
                          body_text=render(action["body"], ticket=ticket, agent=agent), ticket=ticket,
                          kind="automation", source=SOURCE)
    body = {"event": "automation", "origin": origin, "ticket": {
        "id": ticket.pk, "number": ticket.number, "subject": ticket.subject, "status": ticket.status,
        "priority": ticket.priority, "team_id": ticket.team_id, "assignee_id": ticket.assignee_id,
        "requester": ticket.requester.email}}
    return webhook_deliver_adhoc(url=action["url"], payload=body, secret=action.get("secret", ""),
                                 ticket_id=ticket.pk, source=SOURCE)
