"""The messaging events subscriber (``core/events.py``, after SLA so an acknowledgement can state the expected
reply time): an agent's public reply on a ticket whose customer last wrote from Telegram or WhatsApp is queued
for that app (email notifications skip such tickets), and a conversation that opens a ticket is acknowledged
there. Only queues, in the dispatcher's transaction, keyed per event: the outbound engine sends."""

from __future__ import annotations

from typing import Any

from atende.messaging.services.acknowledgements import acknowledgement_text
from atende.messaging.services.outbound import conversation_ack_enqueue, conversation_reply_enqueue
from atende.tickets.choices import TicketEventType


def messaging_on_events(events: list[dict[str, Any]]) -> None:
    for event in events:
        message_id = (event.get("data") or {}).get("message_id")
        if event["type"] == TicketEventType.REPLY_ADDED and message_id:
            conversation_reply_enqueue(message_id=int(message_id), event_id=int(event["event_id"]))
        elif event["type"] == TicketEventType.TICKET_CREATED and message_id:
            ack = acknowledgement_text(ticket_id=int(event["ticket_id"]), message_id=int(message_id))
            if ack is not None:
                conversation_ack_enqueue(ticket=ack[0], event_id=int(event["event_id"]), text=ack[1])
