"""Agents' public replies written outside the chat workspace (the console's ticket page, the API, automation) on a
chat's ticket reach the visitor the way the workspace's replies do.

Run by the chat events subscriber (``chat.subscribers``), in the dispatcher's transaction: while the conversation
is open the reply is pushed to the widget (after the commit, like every chat push); when the visitor is not
connected (the conversation ended, or the tab is closed) and their email is known, it goes by email instead,
through the usual reply notification. Without an email it waits on the ticket: the widget shows the whole thread
when the visitor comes back with the same visitor token. Replies made in the workspace (``chat_session`` in their
metadata) were pushed when they were written and are left alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from atende.chat import realtime
from atende.chat.choices import ChatStatus
from atende.chat.models import ChatSession
from atende.chat.selectors import message_row
from atende.email_channel.services import notifications_for_event
from atende.tickets.choices import Channel, MessageKind, TicketEventType
from atende.tickets.models import Message

# A new subscriber's cursor starts at the oldest live event (core.outbox.dispatch.cursors_ensure): replies older
# than this are history, never pushed or mailed again when this subscriber first runs on an existing desk.
RELAY_MAX_AGE = dt.timedelta(days=1)


def _agent_reply_id(event: dict[str, Any]) -> int | None:
    """The message of an agent's REPLY_ADDED event (a visitor's is named by its author kind)."""
    data = event.get("data") or {}
    if event.get("type") != TicketEventType.REPLY_ADDED or data.get("author_kind", "agent") != "agent":
        return None
    return int(data["message_id"]) if data.get("message_id") else None


def relay_candidates(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events of a batch ``chat_ticket_reply_relay`` has to look at, screened with one query: every chat
    message is a reply event, and the workspace's replies (marked in their metadata) are left out here."""
    ids = {pk for pk in map(_agent_reply_id, events) if pk is not None}
    if not ids:
        return []
    outside = {pk for pk, metadata in Message.objects.filter(pk__in=ids).values_list("pk", "metadata")
               if "chat_session" not in (metadata or {})}
    return [event for event in events if _agent_reply_id(event) in outside]


@transaction.atomic
def chat_ticket_reply_relay(*, event: dict[str, Any], screened: bool = False) -> str:
    """What became of one REPLY_ADDED event: ``"pushed"``, ``"emailed"``, ``"waiting"`` or ``""`` (not a reply
    for a chat visitor). Idempotent: the email is keyed by the event, a push happens only after the commit.
    ``screened``: the event came through ``relay_candidates``."""
    message_id = _agent_reply_id(event)
    # Every chat message is a reply event: the visitor's (the event names its author) and the workspace's
    # (marked in its metadata) are left without loading the message, its ticket and author.
    if message_id is None or not screened and not relay_candidates([event]):
        return ""
    message = Message.objects.select_related("ticket", "author").filter(pk=message_id).first()
    if message is None or message.kind != MessageKind.REPLY or message.author_kind != "agent" \
            or "chat_session" in (message.metadata or {}) or message.ticket.channel != Channel.CHAT \
            or message.created_at < timezone.now() - RELAY_MAX_AGE:
        return ""
    session = ChatSession.objects.filter(ticket_id=message.ticket_id).first()
    if session is None:
        return ""
    is_open = session.status != ChatStatus.ENDED
    if is_open:
        realtime.push_to_session(session.pk, {"type": "message", "message": message_row(message)})
    if is_open and realtime.present("visitor", [session.pk]):
        return "pushed"
    if not session.email:
        return "pushed" if is_open else "waiting"
    # The reply notification skips chat messages (the widget shows them): this one goes by email, like a
    # workspace reply to a visitor who left. Keyed per event and address, so a second run queues nothing.
    Message.objects.filter(pk=message.pk).update(channel=Channel.EMAIL)
    notifications_for_event(event)
    return "emailed"
