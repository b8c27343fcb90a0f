"""The JSON body of a webhook delivery: a stable, versioned schema documented in docs/webhooks.md."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from atende.integrations.choices import EVENT_MAP
from atende.tickets.models import Message, Ticket

SCHEMA_VERSION = 1


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _person(user) -> dict[str, Any] | None:
    return {"id": user.pk, "name": user.display_name, "email": user.email} if user is not None else None


def ticket_snapshot(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk, "number": ticket.number, "subject": ticket.subject, "status": ticket.status,
        "priority": ticket.priority, "type": ticket.type, "channel": ticket.channel,
        "requester": _person(ticket.requester), "organization_id": ticket.organization_id,
        "team": {"id": ticket.team_id, "name": ticket.team.name} if ticket.team_id else None,
        "assignee": _person(ticket.assignee), "category_id": ticket.category_id,
        "tags": sorted(t.name for t in ticket.tags.all()), "custom_fields": ticket.custom_fields,
        "external_id": ticket.external_id, "version": ticket.version,
        "created_at": _iso(ticket.created_at), "updated_at": _iso(ticket.updated_at),
        "url": f"{settings.SITE_URL}/api/v1/tickets/{ticket.pk}",
    }


def message_snapshot(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk, "kind": message.kind, "public": message.kind == "reply",
        "author": _person(message.author), "author_kind": message.author_kind, "channel": message.channel,
        "body_text": message.body_text, "external_id": message.external_id, "created_at": _iso(message.created_at),
        "attachments": [{"id": a.pk, "filename": a.filename, "content_type": a.content_type, "size": a.size}
                        for a in message.attachments.all()],
    }


def webhook_payload_for_event(event: dict[str, Any]) -> dict[str, Any] | None:
    """Build the body for a ticket event (the events bus payload), or None if it is not a webhook event."""
    webhook_event = EVENT_MAP.get(event.get("type", ""))
    if webhook_event is None:
        return None
    ticket = (Ticket.objects.select_related("requester", "assignee", "team").prefetch_related("tags")
              .filter(pk=event.get("ticket_id")).first())
    if ticket is None:
        return None
    body: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "event": str(webhook_event),
        "event_id": event.get("event_id"),
        "occurred_at": event.get("created_at"),
        "ticket_event_type": event.get("type"),
        "actor": {"kind": event.get("actor_kind"), "user_id": event.get("actor_user_id")},
        "changes": event.get("data") or {},
        "ticket": ticket_snapshot(ticket),
    }
    message_id = (event.get("data") or {}).get("message_id")
    if webhook_event == "message.added" and message_id:
        message = Message.objects.select_related("author").prefetch_related("attachments").filter(
            pk=message_id).first()
        body["message"] = message_snapshot(message) if message else None
    return body
