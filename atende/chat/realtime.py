"""Live chat's real time: Channels groups, pushes after commit, and who is connected.

Groups:
- ``chat.<session id>``: the visitor's tabs and the agents who opened that conversation;
- ``chat.agents``: every agent's chat connection (queue changes; each consumer re-reads what it may see).

Pushes ride on ``transaction.on_commit`` like the console's (``console/realtime.py``): only committed rows are
announced, and a lost push is repaired by the client re-reading on reconnect.

Presence lives in Django's ``presence`` cache (files under ``VAR_DIR/cache/presence`` that the web process and the
events worker share on one machine, ``core.localcache``; Redis with ``REDIS_URL``): each connection refreshes its
entry on a heartbeat; an entry lapses ``PRESENCE_TTL_SECONDS`` after its last heartbeat, so an agent whose last
tab closed (or crashed) stops receiving chats.
"""

from __future__ import annotations

import json
import time
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import caches
from django.db import transaction

from atende.core.asyncbridge import send_soon

AGENTS_GROUP = "chat.agents"
HEARTBEAT_SECONDS = 20
PRESENCE_TTL_SECONDS = 60


def session_group(session_id: int) -> str:
    return f"chat.{int(session_id)}"


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        send_soon(layer.group_send, group, message)


def push_on_commit(group: str, message: dict[str, Any]) -> None:
    transaction.on_commit(lambda: _send(group, message))


def push_message(session_id: int, event: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message pushing ``event`` to a conversation: a ``state`` as an object (the visitor's
    connection follows the queue with it), any other event as its JSON text, encoded once here for every
    connection (the in-memory layer copies a message for each recipient; a string costs nothing to copy)."""
    if event.get("type") == "state":
        return {"type": "chat.push", "session_id": session_id, "event": event}
    return {"type": "chat.push", "session_id": session_id, "text": json.dumps(event)}


def push_to_session(session_id: int, event: dict[str, Any]) -> None:
    """Send ``event`` (a JSON object for the browsers) to both sides of a conversation after commit."""
    push_on_commit(session_group(session_id), push_message(session_id, event))


def reserve_push(session_id: int) -> dict[str, Any]:
    """A push to a conversation registered now, filled in later: called before the write, its on-commit callback
    runs before those the write registers (search index, subscribers), so the message reaches the other side
    first. Nothing is sent if the slot stays empty or the transaction rolls back."""
    slot: dict[str, Any] = {}

    def send() -> None:
        if slot:
            _send(session_group(session_id), push_message(session_id, dict(slot)))

    transaction.on_commit(send)
    return slot


def waiting_group(team_id: int | None) -> str:
    """Visitors waiting in one team's queue (they re-read their place when it moves)."""
    return f"chat.waiting.{int(team_id or 0)}"


def push_queue_changed(team_id: int | None) -> None:
    push_on_commit(AGENTS_GROUP, {"type": "chat.queue", "team_id": team_id})
    push_on_commit(waiting_group(team_id), {"type": "chat.queue", "team_id": team_id})


# Presence -------------------------------------------------------------------------------------------------------

def _cache():
    """The ``presence`` cache; settings that define only a default cache (one shared by every process) use it."""
    return caches["presence" if "presence" in settings.CACHES else "default"]


def _key(kind: str, ident: int) -> str:
    return f"chat:presence:{kind}:{int(ident)}"


def _live(kind: str, ident: int, now: float) -> dict[str, float]:
    return {channel: expires for channel, expires in (_cache().get(_key(kind, ident)) or {}).items() if expires > now}


def presence_touch(kind: str, ident: int, channel_name: str) -> None:
    """``kind`` is ``agent`` (ident: user id) or ``visitor`` (ident: session id)."""
    now = time.time()
    entries = _live(kind, ident, now)
    entries[channel_name] = now + PRESENCE_TTL_SECONDS
    _cache().set(_key(kind, ident), entries, PRESENCE_TTL_SECONDS)


def presence_leave(kind: str, ident: int, channel_name: str) -> bool:
    """Drop one connection; True when it was the last one."""
    entries = _live(kind, ident, time.time())
    entries.pop(channel_name, None)
    if entries:
        _cache().set(_key(kind, ident), entries, PRESENCE_TTL_SECONDS)
        return False
    _cache().delete(_key(kind, ident))
    return True


def present(kind: str, idents: list[int]) -> set[int]:
    if not idents:
        return set()
    now = time.time()
    stored = _cache().get_many([_key(kind, i) for i in idents])
    return {i for i in idents if any(exp > now for exp in (stored.get(_key(kind, i)) or {}).values())}
