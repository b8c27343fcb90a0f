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
    return webhook_payloads_for_events([event])[0]


def webhook_payloads_for_events(events: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """``webhook_payload_for_event`` for many events, in order, with one read of their tickets (tags included)
    and one of the messages they name."""
    names = [EVENT_MAP.get(event.get("type", "")) for event in events]
    ticket_ids = {event.get("ticket_id") for event, name in zip(events, names, strict=True) if name}
    tickets = {t.pk: t for t in Ticket.objects.select_related("requester", "assignee", "team")
               .prefetch_related("tags").filter(pk__in=ticket_ids)} if ticket_ids else {}
    message_ids = {(event.get("data") or {}).get("message_id") for event, name in zip(events, names, strict=True)
                   if name == "message.added"} - {None}
    messages = Message.objects.select_related("author").prefetch_related("attachments").in_bulk(message_ids) \
        if message_ids else {}
    snapshots: dict[int, dict[str, Any]] = {}
    out: list[dict[str, Any] | None] = []
    for event, webhook_event in zip(events, names, strict=True):
        ticket = tickets.get(event.get("ticket_id"))
        if webhook_event is None or ticket is None:
            out.append(None)
            continue
        if ticket.pk not in snapshots:
            snapshots[ticket.pk] = ticket_snapshot(ticket)
        body: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "event": str(webhook_event),
            "event_id": event.get("event_id"),
            "occurred_at": event.get("created_at"),
            "ticket_event_type": event.get("type"),
            "actor": {"kind": event.get("actor_kind"), "user_id": event.get("actor_user_id")},
            "changes": event.get("data") or {},
            "ticket": snapshots[ticket.pk],
        }
        message_id = (event.get("data") or {}).get("message_id")
        if webhook_event == "message.added" and message_id:
            message = messages.get(message_id)
            body["message"] = message_snapshot(message) if message else None
        out.append(body)
    return out
