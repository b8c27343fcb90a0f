"""The messaging events subscriber (``core/events.py``, after SLA so an acknowledgement can state the expected
reply time): an agent's public reply on a ticket whose customer last wrote from Telegram or WhatsApp is queued
for that app (email notifications skip such tickets), and a conversation that opens a ticket is acknowledged
there. Only queues, in the dispatcher's transaction, keyed per event: the outbound engine sends. The batch's
messages are screened with one query first, so a batch of email and portal tickets costs one statement."""

from __future__ import annotations

from typing import Any

from atende.messaging.selectors import messages_worth_a_look
from atende.messaging.services.acknowledgements import acknowledgement_text
from atende.messaging.services.outbound import conversation_ack_enqueue, conversation_reply_enqueue
from atende.tickets.choices import TicketEventType

HANDLED = (TicketEventType.REPLY_ADDED, TicketEventType.TICKET_CREATED)


def _message_id(event: dict[str, Any]) -> int | None:
    message_id = (event.get("data") or {}).get("message_id") if event["type"] in HANDLED else None
    return int(message_id) if message_id else None


def messaging_on_events(events: list[dict[str, Any]]) -> None:
    candidates = messages_worth_a_look([m for m in map(_message_id, events) if m is not None])
    for event in events:
        message_id = _message_id(event)
        if message_id not in candidates:
            continue
        if event["type"] == TicketEventType.REPLY_ADDED:
            conversation_reply_enqueue(message_id=message_id, event_id=int(event["event_id"]))
        else:
            ack = acknowledgement_text(ticket_id=int(event["ticket_id"]), message_id=message_id)
            if ack is not None:
                conversation_ack_enqueue(ticket=ack[0], event_id=int(event["event_id"]), text=ack[1])
