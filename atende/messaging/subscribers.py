"""The messaging events subscriber (``core/events.py``): an agent's public reply on a ticket whose customer last
wrote from Telegram or WhatsApp is sent there (email notifications skip such tickets)."""

from __future__ import annotations

from typing import Any

from atende.messaging.services.outbound import conversation_reply_deliver
from atende.tickets.choices import TicketEventType


def messaging_on_events(events: list[dict[str, Any]]) -> None:
    for event in events:
        message_id = (event.get("data") or {}).get("message_id")
        if event["type"] == TicketEventType.REPLY_ADDED and message_id:
            conversation_reply_deliver(message_id=int(message_id))
