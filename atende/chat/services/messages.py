"""Messages of many conversations written together: one transaction for a group of visitors' messages and agents'
replies that arrived at the same moment (the websocket consumers gather them, ``chat.writer``).

Every message is checked as its service checks it (``chat_visitor_message``, ``chat_agent_reply``), so the same
rules hold. What the group shares is the transaction (one writer's turn on SQLite, one commit), the reads every
message starts with (the conversations locked with their customers, then their tickets, and the resend keys already
stored: three queries for the group, ``lock_group``, reading the few columns the set-wise write needs, and two
more for full copies of the conversations that need a service; the visitors' messages counted against the rate limits before
the transaction, ``_visitors_counted``) and, for the plain messages, the writes (``setwise``: one INSERT of the
messages, one UPDATE per set of tickets, one INSERT of their events, under one savepoint). A conversation with a
message that needs more (the bot step, a status move) is written message by message through the services, each
message under a savepoint of its own, and so are the plain messages when their set-wise write fails. A refused
message (too long, too fast, the conversation ended, not the agent's) gets its error in its place in the answer
and leaves nothing behind; the others are written. A conversation's messages keep their order; the pushes to the
other side ride on the commit, in that order, and a refused message pushes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, transaction

from atende.accounts.models import User
from atende.chat import realtime
from atende.chat.models import ChatSession
from atende.chat.selectors import chat_may_handle
from atende.chat.services import setwise
from atende.chat.services._common import lock_group, lock_with_ticket, resend_key, widen
from atende.chat.services.agents import chat_agent_reply
from atende.chat.services.conversation import chat_visitor_message, visitor_throttle
from atende.core.exceptions import NotFound
from atende.core.throttle import Throttled

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VisitorMessage:
    """A visitor's message in their conversation (the socket's conversation: the visitor's token was checked)."""

    session_id: int
    text: Any
    client_id: str = ""
    client_ip: str = ""

    @property
    def key(self) -> str:
        return resend_key(self.session_id, self.client_id)


@dataclass(frozen=True)
class AgentReply:
    """An agent's reply. The conversation must be one the agent may handle: any other is NotFound, as for
    ``access_chat_for_agent``."""

    session_id: int
    agent: User
    text: Any
    client_id: str = ""

    @property
    def key(self) -> str:
        return resend_key(self.session_id, self.client_id, agent=True)


ChatWrite = VisitorMessage | AgentReply


def chat_messages_write(*, writes: Sequence[ChatWrite]) -> list[dict[str, Any] | Exception]:
    """Write ``writes`` in one transaction, in order; for each, the stored message's row (``message_row``) or the
    error that refused it. Should the group's transaction itself fail (the database, not a message), each message
    is written again in a transaction of its own: nothing of the group was stored, and a resend key keeps a
    message that was from being stored twice."""
    here = _visitors_here(writes)
    refused = _visitors_counted(writes)
    try:
        return _write_group(writes, here, refused)
    except DatabaseError:
        if len(writes) == 1:
            raise
        logger.warning("chat messages written one by one after their group's transaction failed", exc_info=True)
        return [_write_alone(write, here, refused.get(n)) for n, write in enumerate(writes)]


def _visitors_counted(writes: Sequence[ChatWrite]) -> dict[int, Exception]:
    """The visitors' messages counted against the rate limits before the group's transaction, in order: the
    refused ones by their place in the group. Counted inside, each message's look-ups in the limits' store (a
    Redis round trip each when several web processes share it) held SQLite's writers' turn, and the other web
    processes waited for it. A message whose conversation does not exist is refused inside, uncounted."""
    visitors = [(n, write) for n, write in enumerate(writes) if isinstance(write, VisitorMessage)]
    if not visitors:
        return {}
    ids = dict(ChatSession.objects.filter(pk__in={int(w.session_id) for _n, w in visitors})
               .values_list("pk", "visitor_id"))
    refused: dict[int, Exception] = {}
    for n, write in visitors:
        if int(write.session_id) in ids:
            try:
                visitor_throttle(ids[int(write.session_id)], write.client_ip)
            except Throttled as exc:
                refused[n] = exc
    return refused


def _visitors_here(writes: Sequence[ChatWrite]) -> set[int]:
    """The conversations among the replies' whose visitor has the widget open (a reply to one who left goes by
    email): one read of the presence cache for the group, before its transaction. Read inside, once per reply,
    it was a file read each (the presence cache of one machine) while the group held SQLite's writers' turn."""
    return realtime.present("visitor", sorted({int(w.session_id) for w in writes if isinstance(w, AgentReply)}))


@transaction.atomic
def _write_group(writes: Sequence[ChatWrite], here: set[int],
                 refused: dict[int, Exception]) -> list[dict[str, Any] | Exception]:
    keys: dict[int, list[str]] = {}
    for n, write in enumerate(writes):
        if n not in refused:
            keys.setdefault(int(write.session_id), []).append(write.key)
    locked = lock_group(keys, narrow=True)
    found = set(locked)
    outcomes: dict[int, Any] = dict(refused)
    # The plain messages of each conversation checked first, then written set-wise (``setwise``); a conversation
    # with a message that needs its service is written message by message, as are those of a failed set-wise write.
    planned: dict[int, setwise.Planned] = {}
    for session_id, places in _by_conversation(writes, refused).items():
        session = locked.get(session_id)
        if session is None:
            continue
        try:
            plans = setwise.plan(session, [writes[n] for n in places], here)
        except setwise.NeedsService:
            continue
        del locked[session_id]
        for n, outcome in zip(places, plans, strict=True):
            if isinstance(outcome, Exception):
                outcomes[n] = outcome
            else:
                planned[n] = outcome
    locked = widen(list(locked.values()))  # those that need a service: full copies, read together
    if planned:
        try:
            with transaction.atomic():
                setwise.write([planned[n] for n in sorted(planned)])
            outcomes.update((n, p.row) for n, p in planned.items())
        except Exception:  # noqa: BLE001 - written one by one below, each under its savepoint, as before
            logger.warning("chat messages written one by one after their set-wise write failed", exc_info=True)
    for n, write in enumerate(writes):
        if n in outcomes:
            continue
        try:  # ``locked`` holds the group's copy of a conversation not yet used; otherwise it is read again
            outcomes[n] = _write(write, locked.pop(int(write.session_id), None), found, here)
        except Exception as exc:  # noqa: BLE001 - the sender's answer; the savepoint undid its writes
            outcomes[n] = exc
    return [outcomes[n] for n in range(len(writes))]


def _by_conversation(writes: Sequence[ChatWrite], refused: dict[int, Exception]) -> dict[int, list[int]]:
    places: dict[int, list[int]] = {}
    for n, write in enumerate(writes):
        if n not in refused:
            places.setdefault(int(write.session_id), []).append(n)
    return places


def _write_alone(write: ChatWrite, here: set[int], refused: Exception | None) -> dict[str, Any] | Exception:
    if refused is not None:
        return refused
    try:
        return _write_group([write], here, {})[0]
    except Exception as exc:  # noqa: BLE001 - as in a group: the answer to its sender
        return exc


def _write(write: ChatWrite, session: ChatSession | None, found: set[int], here: set[int]) -> dict[str, Any]:
    """One message, under the service's savepoint. ``session``: the group's locked copy, or None when another
    message of the group used it (read again) or the conversation does not exist."""
    is_agent = isinstance(write, AgentReply)
    if int(write.session_id) not in found:
        raise NotFound("Chat not found.") if is_agent else NotFound("No conversation yet.")
    if session is None:
        session = lock_with_ticket(write.session_id, related=() if is_agent else ("customer",))
    if is_agent:
        if not chat_may_handle(user=write.agent, session=session):
            raise NotFound("Chat not found.")
        return chat_agent_reply(session=session, agent=write.agent, text=write.text, client_id=write.client_id,
                                locked=True, visitor_here=session.pk in here)
    return chat_visitor_message(session=session, text=write.text, client_id=write.client_id,
                                client_ip=write.client_ip, locked=True, counted=int(write.session_id) in found)
