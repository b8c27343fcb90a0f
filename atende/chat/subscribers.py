"""The chat events subscriber (``core/events.py``): agents' replies on a chat's ticket written outside the chat
workspace reach the visitor (widget or email, ``chat.services.relay``)."""

from __future__ import annotations

from typing import Any

from atende.chat.services.relay import chat_ticket_reply_relay, relay_candidates


def chat_on_events(events: list[dict[str, Any]]) -> None:
    # The batch's chat messages (most of its events on a busy desk) are screened out with one query.
    for event in relay_candidates(events):
        chat_ticket_reply_relay(event=event, screened=True)
