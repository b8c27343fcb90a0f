"""Reads of the messaging connectors: a ticket's route back to the customer and WhatsApp's 24-hour window."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.core.prepared import PreparedLookup, prepared_read
from atende.messaging.choices import Direction, Platform
from atende.messaging.models import ConversationMessage, InboundWebhook, WhatsAppTemplate
from atende.tickets.choices import MessageKind
from atende.tickets.models import Message, Ticket
from atende.tickets.selectors import ticket_reply_route, ticket_reply_routes

MESSAGING_TRANSPORTS = (Platform.TELEGRAM, Platform.WHATSAPP)


def messaging_route(ticket: Ticket) -> dict[str, str] | None:
    route = ticket_reply_route(ticket)
    return route if route and route["transport"] in MESSAGING_TRANSPORTS else None


def messages_worth_a_look(message_ids: list[int]) -> set[int]:
    """Of an events batch's messages, those the messaging subscriber must look at, read in one query: a customer's
    message that came from a messaging app (it may open a conversation to acknowledge) and an agent's public reply
    on a ticket with a messaging route (its tickets' routes read in a second query). Everything else (most of a
    batch: email, portal and chat messages) is skipped without reading more."""
    if not message_ids:
        return set()
    rows = Message.objects.filter(pk__in=message_ids).values_list("pk", "ticket_id", "kind", "author_kind", "metadata")
    found, replies = set(), {}
    for pk, ticket_id, kind, author_kind, metadata in rows:
        if author_kind == "agent" and kind == MessageKind.REPLY:
            replies[pk] = ticket_id
        elif author_kind == "customer" and ((metadata or {}).get("reply_route") or {}).get("transport") \
                in MESSAGING_TRANSPORTS:
            found.add(pk)
    if replies:
        routed = {pk for pk, route in ticket_reply_routes(set(replies.values())).items()
                  if route["transport"] in MESSAGING_TRANSPORTS}
        found |= {pk for pk, ticket_id in replies.items() if ticket_id in routed}
    return found


def whatsapp_window_closes_at(ticket: Ticket) -> dt.datetime | None:
    """When the customer-service window closes: 24 hours after the customer's latest WhatsApp message."""
    last = _last_whatsapp_inbound(ticket_id=ticket.pk)
    return last.created_at + dt.timedelta(hours=settings.MESSAGING_WHATSAPP_WINDOW_HOURS) if last else None


# The ticket page's reads (its reply box and timeline): SQL compiled once per connection.
_last_whatsapp_inbound = PreparedLookup(
    lambda ticket_id: ConversationMessage.objects.filter(ticket=ticket_id, platform=Platform.WHATSAPP,
                                                         direction=Direction.INBOUND)
    .order_by("-created_at", "-id").only("id", "created_at"), "ticket_id")


def _outbound_with_message(ticket_id: int):
    return (ConversationMessage.objects.filter(ticket=ticket_id, direction=Direction.OUTBOUND)
            .exclude(message=None).order_by("id"))


def reply_refusal(ticket: Ticket, *, now: dt.datetime | None = None) -> str:
    """Why a free-text reply cannot go out on the ticket's channel now ("" when it can)."""
    route = messaging_route(ticket)
    if route is None or route["transport"] != Platform.WHATSAPP:
        return ""
    closes = whatsapp_window_closes_at(ticket)
    if closes is not None and (now or timezone.now()) < closes:
        return ""
    return _("The customer last wrote on WhatsApp more than 24 hours ago. WhatsApp only accepts an approved "
             "template message now: choose one below (the customer's answer reopens the window).")


def whatsapp_template_list() -> QuerySet[WhatsAppTemplate]:
    return WhatsAppTemplate.objects.filter(is_active=True).order_by("name", "language")


def whatsapp_template_list_all() -> QuerySet[WhatsAppTemplate]:
    """Every template, inactive ones too (the connectors page)."""
    return WhatsAppTemplate.objects.order_by("name", "language")


def recent_inbound_webhooks(limit: int = 30) -> QuerySet[InboundWebhook]:
    return InboundWebhook.objects.order_by("-received_at", "-id")[:limit]


def delivery_states_for_ticket(ticket: Ticket) -> dict[int, ConversationMessage]:
    """Message id → its platform delivery row (state, error), for the timeline."""
    rows = prepared_read(_outbound_with_message, _outbound_with_message, [ticket.pk])
    return {row.message_id: row for row in rows}
