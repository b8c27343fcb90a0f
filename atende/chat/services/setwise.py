"""A group's plain messages written set-wise (``TicketChanges.add_reply``): one INSERT of their messages, one UPDATE
per set of tickets given the same change, one INSERT of their REPLY_ADDED events, in the group's transaction.

Most messages of a live chat are plain: a visitor writing in a conversation a person holds (its ticket open or
new), an agent answering on a ticket already open. For those, ``message_add_reply`` stores the message, sets the
ticket's last reply time (and first response), bumps its version and records REPLY_ADDED: the same rows are
written here, with the same values and event data, for the whole group at once instead of two savepoints, two
INSERTs and two UPDATEs per message. Anything else goes through the services one message at a time, as before
(``plan`` says so with ``NeedsService``): the bot step (the handover makes the ticket), a status move (a visitor
reopening a pending or solved ticket, an agent's first reply on a new one), a merged or closed ticket, files.

Checking comes first and writes nothing (``plan``): a refused message (too long, the conversation ended, not the
agent's) is answered with its error and the others are written. Should the set-wise write itself fail, the
caller undoes it (its savepoint) and writes those messages one by one, each under its own savepoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from atende.accounts.models import User
from atende.chat import realtime
from atende.chat.choices import ChatStatus
from atende.chat.models import ChatSession
from atende.chat.selectors import chat_may_handle, message_row
from atende.chat.services._common import clean_text, sent_before
from atende.chat.services.agents import reply_allowed
from atende.chat.services.conversation import visitor_text
from atende.core.actor import Actor
from atende.core.exceptions import DomainError, NotFound
from atende.tickets.choices import Channel, TicketStatus
from atende.tickets.services import TicketChanges
from atende.tickets.services._common import require_agent


class NeedsService(Exception):
    """The message needs the reply service itself (see the module docstring), and so does the rest of its
    conversation in the group (they are written in order after it)."""


@dataclass
class Planned:
    """A message checked and ready to be written with its group (``row`` is filled in by ``write``)."""

    session: ChatSession
    text: str = ""
    client_id: str = ""
    external_id: str = ""
    actor: Actor | None = None
    author: User | None = None
    channel: str = Channel.CHAT
    from_customer: bool = False
    row: dict[str, Any] | None = None
    same_as: Planned | None = None  # the same message twice in the group: answered with the first one's row

    @property
    def new(self) -> bool:
        return self.row is None and self.same_as is None


def plan(session: ChatSession, writes: Sequence, here: set[int]) -> list[Planned | Exception]:
    """One conversation's messages in the group (``session``: the group's locked copy, with its ticket and
    customer), checked in order as their services check them: each one's plan or the error refusing it. Raises
    ``NeedsService`` when one of them needs the service."""
    seen: dict[str, Planned] = {}
    planned: list[Planned | Exception] = []
    for write in writes:
        try:
            planned.append(_plan(session, write, here, seen))
        except DomainError as exc:
            planned.append(exc)
    return planned


def _plan(session: ChatSession, write, here: set[int], seen: dict[str, Planned]) -> Planned:
    agent = getattr(write, "agent", None)
    if agent is not None:  # ``_write`` and ``chat_agent_reply``'s checks, in their order
        if not chat_may_handle(user=agent, session=session):
            raise NotFound("Chat not found.")
        text = clean_text(write.text)
        reply_allowed(agent, session)
    else:  # ``chat_visitor_message``'s
        text = visitor_text(session, write.text)
        if session.status == ChatStatus.BOT:
            raise NeedsService
    external_id = write.key
    if external_id and external_id in seen:
        return Planned(session=session, same_as=seen[external_id])
    existing = sent_before(session, external_id)
    if existing is not None:
        return Planned(session=session, row=message_row(existing))
    ticket = session.ticket if session.ticket_id else None
    if ticket is None or ticket.is_closed:
        raise NeedsService
    # ``message_add_reply``'s checks, for the replies it writes without moving the ticket's status
    text = TicketChanges.note_text(text)  # its cleaning of the body (ValidationError when nothing is left)
    if agent is not None:
        actor = Actor.for_user(agent)
        if not agent.is_staff_member or ticket.status == TicketStatus.NEW:
            raise NeedsService  # the first reply opens the ticket
        require_agent(actor)
        channel = Channel.CHAT if session.pk in here or not session.email else Channel.EMAIL
    else:
        agent = session.customer
        actor = Actor(kind="customer", user=agent)
        if agent is None or agent.is_staff_member or ticket.merged_into_id or \
                ticket.status in (TicketStatus.PENDING, TicketStatus.SOLVED):
            raise NeedsService  # a reopening, or a message going to the ticket it was merged into
        channel = Channel.CHAT
    planned = Planned(session=session, text=text, client_id=str(write.client_id or "")[:64],
                      external_id=external_id, actor=actor, author=agent, channel=channel,
                      from_customer=actor.kind == "customer")
    if external_id:
        seen[external_id] = planned
    return planned


def write(planned: Sequence[Planned]) -> None:
    """Write the new messages among ``planned`` (in the caller's transaction, in order, with ``TicketChanges``:
    the group's tickets are locked) and fill in every plan's row. The pushes to the conversations are registered
    first, so they leave before the other on-commit work."""
    new = [p for p in planned if p.new]
    if new:
        pushes = [realtime.reserve_push(p.session.pk) for p in new]
        changes = TicketChanges(locked=True)
        messages = [changes.add_reply(p.session.ticket, actor=p.actor, author=p.author, body_text=p.text,
                                      channel=p.channel, external_id=p.external_id,
                                      metadata={"chat_session": p.session.pk, "chat_cid": p.client_id})
                    for p in new]
        changes.save()
        for p, message, push in zip(new, messages, pushes, strict=True):
            p.row = message_row(message, files=[])
            push.update({"type": "message", "message": p.row})
    for p in planned:
        if p.same_as is not None:
            p.row = p.same_as.row
