"""Emails and webhooks sent by automations: queued in the change's transaction through the email channel's
``mails_queue`` and the outbound engine's ``deliveries_enqueue`` (webhook items built by integrations), so the
engine sends them after commit, with its retries, attempt log and give-up (docs/architecture.md, "Outbound
deliveries"). Many actions are queued together: one read of undeliverable addresses, one read of existing keys
and one insert for a whole batch of tickets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atende.email_channel.services.outbound import mails_queue
from atende.integrations.services import webhook_adhoc_item
from atende.outbound.services import deliveries_enqueue
from atende.rules.placeholders import render
from atende.tickets.models import Ticket

SOURCE = "automation"
DELIVERY_ACTIONS = frozenset({"send_email", "webhook"})


@dataclass
class DeliveryAction:
    """One ``send_email`` or ``webhook`` action to queue for one ticket. With ``key`` (``"<event id>:<rule kind>:
    <rule id>:<action index>"``) queueing it again queues nothing."""

    ticket: Ticket
    action: dict[str, Any]
    origin: dict[str, Any]
    agent: Any = None
    key: str = ""


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


def _webhook_body(ticket: Ticket, origin: dict[str, Any]) -> dict[str, Any]:
    return {"event": "automation", "origin": origin, "ticket": {
        "id": ticket.pk, "number": ticket.number, "subject": ticket.subject, "status": ticket.status,
        "priority": ticket.priority, "team_id": ticket.team_id, "assignee_id": ticket.assignee_id,
        "requester": ticket.requester.email}}


def delivery_item(item: DeliveryAction) -> tuple[str, dict[str, Any]] | None:
    """What to queue for one action: ("mail", ``mails_queue`` arguments) or ("webhook", an outbound item), None
    when there is nobody to mail. Raises ValidationError for a webhook URL that is not http(s)."""
    ticket, action, agent = item.ticket, item.action, item.agent
    if action["type"] == "send_email":
        recipients = _recipients(ticket, action["to"])
        if not recipients:
            return None
        return "mail", dict(to=recipients, subject=render(action["subject"], ticket=ticket, agent=agent),
                            body_text=render(action["body"], ticket=ticket, agent=agent), ticket=ticket,
                            kind="automation", source=SOURCE, dedupe_key=item.key)
    return "webhook", webhook_adhoc_item(url=action["url"], payload=_webhook_body(ticket, item.origin),
                                         secret=action.get("secret", ""), ticket_id=ticket.pk, source=SOURCE,
                                         key=item.key or None)


def deliveries_queue(items: list[tuple[str, dict[str, Any]]]) -> None:
    """Queue what ``delivery_item`` built, mails with one ``mails_queue`` call and webhooks with one
    ``deliveries_enqueue`` call, in the current transaction."""
    mails = [spec for kind, spec in items if kind == "mail"]
    hooks = [spec for kind, spec in items if kind == "webhook"]
    if mails:
        mails_queue(mails)
    if hooks:
        deliveries_enqueue(hooks)
