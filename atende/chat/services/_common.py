"""Pieces both sides of a conversation share: locking and the state pushed to the browsers."""

from __future__ import annotations

import re
import unicodedata

from django.conf import settings
from django.utils.translation import gettext as _

from atende.chat import realtime
from atende.chat.choices import ChatOutcome
from atende.chat.models import ChatSession
from atende.chat.selectors import queue_position
from atende.core.exceptions import ValidationError
from atende.core.prepared import padded, prepared_read
from atende.sla.selectors import expected_first_reply_minutes
from atende.tickets.models import Message, Ticket
from atende.tickets.selectors import expected_reply_text, no_target_text
from atende.tickets.services._common import lock_ticket

FULL = ("widget", "ticket", "agent", "customer")


def lock_session(session: ChatSession | int, *, related: tuple[str, ...] = FULL) -> ChatSession:
    """The conversation's row locked, with ``related`` read in the same query (a message needs its ticket and
    author only; the others are read if touched)."""
    pk = session.pk if isinstance(session, ChatSession) else session
    return ChatSession.objects.select_for_update(of=("self",)).select_related(*related).get(pk=pk)


def lock_with_ticket(session: ChatSession | int, *, related: tuple[str, ...] = ()) -> ChatSession:
    """``lock_session``, then the conversation's ticket under its own row lock (the order every chat service
    takes them in), each read once: a message written on the ticket uses this copy (``locked=True``) instead of
    reading the ticket again."""
    session = lock_session(session, related=related)
    if session.ticket_id:
        session.ticket = lock_ticket(session.ticket_id)
    return session


# What the set-wise write of a group's plain messages reads of a conversation, its customer and its ticket
# (``setwise``; the ticket's columns are those ``TicketChanges.add_reply`` and the events' payloads use): the full
# rows cost several times more to make into objects (the conversation's bot turns, the ticket's custom fields,
# both decoded from JSON for every message). A conversation that needs a service gets a full copy (``widen``).
NARROW_SESSION = ("status", "ticket", "customer", "agent", "team", "email", "customer__role", "customer__is_active",
                  "customer__name", "customer__email")
NARROW_TICKET = ("number", "status", "channel", "version", "updated_at", "merged_into", "team", "assignee",
                 "requester", "first_response_at", "last_customer_reply_at", "last_agent_reply_at")


def _group_sessions(*ids: int, narrow: bool):
    sessions = ChatSession.objects.select_for_update(of=("self",)).select_related("customer")
    return (sessions.only(*NARROW_SESSION) if narrow else sessions).filter(pk__in=ids).order_by("pk")


def _group_tickets(*ids: int, narrow: bool):
    tickets = Ticket.objects.select_for_update(no_key=True, of=("self",))  # as ``lock_ticket``
    return (tickets.only(*NARROW_TICKET) if narrow else tickets).filter(pk__in=ids).order_by("pk")


def lock_group(keys: dict[int, list[str]], *, narrow: bool = False) -> dict[int, ChatSession]:
    """The conversations ``keys`` names, for a group of messages written in one transaction: each read under lock
    with its customer, then their tickets under their own locks (conversations first, then tickets, each in id
    order: the order every chat service takes them in), and the resend keys given per conversation looked up on
    their tickets: three queries for the group instead of three per message, their SQL compiled once per group
    size. Each copy serves one message; a second message of the same conversation in the group reads it again
    (``lock_with_ticket``), after the first changed it. ``narrow``: only the columns the set-wise write reads."""
    sessions = {session.pk: session for session in prepared_read(
        ("chat.lock_group.sessions", narrow), lambda *ids: _group_sessions(*ids, narrow=narrow), padded(list(keys)))}
    tickets = _locked_tickets([s.ticket_id for s in sessions.values() if s.ticket_id], narrow=narrow)
    asked = {external_id for pk, session in sessions.items() if session.ticket_id for external_id in keys[pk]
             if external_id}
    stored = {(ticket_id, external_id): pk for ticket_id, external_id, pk in Message.objects.filter(
        ticket_id__in=list(tickets), external_id__in=list(asked)).values_list("ticket_id", "external_id", "pk")} \
        if asked else {}
    for session in sessions.values():
        if session.ticket_id:
            session.ticket = tickets[session.ticket_id]
            session.resend_keys = {external_id: stored.get((session.ticket_id, external_id))
                                   for external_id in keys[session.pk] if external_id}
    return sessions


def _locked_tickets(ids: list[int], *, narrow: bool) -> dict[int, Ticket]:
    if not ids:
        return {}
    return {ticket.pk: ticket for ticket in prepared_read(
        ("chat.lock_group.tickets", narrow), lambda *ids: _group_tickets(*ids, narrow=narrow), padded(ids))}


def widen(sessions: list[ChatSession]) -> dict[int, ChatSession]:
    """Full copies of conversations ``lock_group(narrow=True)`` read (their rows are locked already), with their
    tickets and the resend keys found: for the services, which may read any column. Two queries for them all."""
    if not sessions:
        return {}
    full = {session.pk: session for session in prepared_read(
        ("chat.lock_group.sessions", False), lambda *ids: _group_sessions(*ids, narrow=False),
        padded([s.pk for s in sessions]))}
    tickets = _locked_tickets([s.ticket_id for s in full.values() if s.ticket_id], narrow=False)
    for narrow in sessions:
        session = full[narrow.pk]
        if session.ticket_id:
            session.ticket = tickets[session.ticket_id]
        if hasattr(narrow, "resend_keys"):
            session.resend_keys = narrow.resend_keys
    return full


def resend_key(session_id: int, client_id: str, *, agent: bool = False) -> str:
    """The key a message is stored under (``Message.external_id``) so that its resend is recognised: the
    conversation, the side, the page's id for the message. No id, no key."""
    client_id = str(client_id or "")[:64]
    return "" if not client_id else f"chat:{session_id}:a:{client_id}" if agent else f"chat:{session_id}:{client_id}"


def sent_before(session: ChatSession, external_id: str) -> Message | None:
    """The message already stored under this resend key, if any (a resend after a reconnect). Only its id is
    read first (or was, with the group's: ``lock_group``): the whole row is read only for a resend, which is rare."""
    if not external_id or not session.ticket_id:
        return None
    known = getattr(session, "resend_keys", None)
    if known is not None and external_id in known:
        found = known[external_id]
    else:
        found = Message.objects.filter(ticket_id=session.ticket_id, external_id=external_id).values_list(
            "pk", flat=True).first()
    return Message.objects.select_related("author").get(pk=found) if found is not None else None


def push_state(session: ChatSession) -> None:
    realtime.push_to_session(session.pk, {"type": "state", **session_state(session)})


def session_state(session: ChatSession) -> dict:
    return {"status": session.status, "outcome": session.outcome, "position": queue_position(session),
            "agent": session.agent.first_name if session.agent_id else "",
            "ticket": session.ticket.number if session.ticket_id else None,
            "rated": bool(session.ticket_id and getattr(getattr(session.ticket, "satisfaction", None),
                                                         "is_answered", False)),
            "email_known": bool(session.email), "team_id": session.team_id,
            "expected_reply": _expected_reply(session)}


def _expected_reply(session: ChatSession) -> str:
    """An offline request is a ticket answered by email: tell the visitor when to expect it."""
    if session.outcome != ChatOutcome.OFFLINE_FORM or not session.ticket_id:
        return ""
    language = session.language or ""
    return expected_reply_text(expected_first_reply_minutes(session.ticket), language=language) or \
        no_target_text(language=language)




_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def max_message_chars() -> int:
    return getattr(settings, "CHAT_MAX_MESSAGE_CHARS", 4000)


def clean_text(text, *, field: str = "text", required: bool = True, limit: int | None = None) -> str:
    """Visitor text as stored: a string, NFC, no control or bidi-override characters, trimmed, bounded.
    It stays plain text; every page and the widget escape it when showing it."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise ValidationError(_("The message must be text."), code="invalid_text", details={field: "invalid"})
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text)).replace("\r\n", "\n").strip()
    limit = limit or max_message_chars()
    if len(text) > limit:
        raise ValidationError(_("The message is too long (at most %(max)d characters).") % {"max": limit},
                              code="message_too_long", details={field: "too_long", "max": limit})
    if required and not text:
        raise ValidationError(_("The message is empty."), code="message_empty", details={field: "required"})
    return text
