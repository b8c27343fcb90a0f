"""The chat events subscriber (``core/events.py``): agents' replies on a chat's ticket written outside the chat
workspace reach the visitor (widget or email, ``chat.services.relay``)."""

from __future__ import annotations

from typing import Any

from atende.chat.services.relay import chat_ticket_reply_relay
from atende.tickets.choices import TicketEventType


def chat_on_events(events: list[dict[str, Any]]) -> None:
    for event in events:
        if event["type"] == TicketEventType.REPLY_ADDED:
            chat_ticket_reply_relay(event=event)
