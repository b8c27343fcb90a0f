"""Real time for the console: pushing committed ticket events to agents, and who is looking at a ticket.

``push_ticket_events`` is the events bus's on-commit handler (``core/events.py`` ON_COMMIT_HANDLERS), so
agents only ever hear about changes that exist in the database. It sends to two Channels groups:

- ``ticket.<id>``: everyone with that ticket's page open (their consumer joined after an access check);
- ``queues``: one member per web process, whose hub (``fanout.py``) writes the change to the connections that
  may see it.

The frame is JSON-encoded once here and travels as text, so no process encodes it per connection.

Presence ("who else is viewing or replying") lives in Django's cache, which is process-local memory by default
and Redis when ``REDIS_URL`` is set (the same switch as the channel layer), so several web processes share it.
Entries expire: browsers send a heartbeat every ``HEARTBEAT_SECONDS``; a tab that vanishes without a goodbye
drops out after ``PRESENCE_TTL_SECONDS``.
"""

from __future__ import annotations

import time
from typing import Any

from channels.layers import get_channel_layer
from django.core.cache import cache

from atende.console.fanout import QUEUES_GROUP, change_text
from atende.core.asyncbridge import send_soon

HEARTBEAT_SECONDS = 20
PRESENCE_TTL_SECONDS = 60


def ticket_group(ticket_id: int) -> str:
    return f"ticket.{int(ticket_id)}"


def bell_group(user_id: int) -> str:
    """Every open console connection of one agent (the bell's live nudge)."""
    return f"bell.{int(user_id)}"


def change_message(payload: dict[str, Any]) -> dict[str, Any]:
    """What a browser learns about a ticket change: identifiers and routing fields, never message text."""
    return {
        "ticket_id": payload.get("ticket_id"),
        "number": payload.get("ticket_number"),
        "version": payload.get("ticket_version"),
        "event_type": payload.get("type"),
        "event_id": payload.get("event_id"),
        "status": payload.get("status"),
        "team_id": payload.get("team_id"),
        "assignee_id": payload.get("assignee_id"),
        "actor_user_id": payload.get("actor_user_id"),
    }


async def _send_changes(layer, changes: list[dict[str, Any]]) -> None:
    """One channel-layer message per group: each ticket's group hears of its own changes, the ``queues`` group of
    all of them (a list when there are several, which a commit of many events sends)."""
    texts = [change_text(change) for change in changes]
    by_ticket: dict[int, list[int]] = {}
    for index, change in enumerate(changes):
        by_ticket.setdefault(change["ticket_id"], []).append(index)
    for ticket_id, indexes in by_ticket.items():
        await layer.group_send(ticket_group(ticket_id), _group_message("ticket", changes, texts, indexes))
    await layer.group_send(QUEUES_GROUP, _group_message("queue", changes, texts, range(len(changes))))


def _group_message(kind: str, changes: list[dict[str, Any]], texts: list[str], indexes) -> dict[str, Any]:
    indexes = list(indexes)
    if len(indexes) == 1:
        return {"type": f"{kind}.event", "change": changes[indexes[0]], "text": texts[indexes[0]]}
    return {"type": f"{kind}.events", "changes": [changes[i] for i in indexes], "texts": [texts[i] for i in indexes]}


def push_ticket_events(payloads: list[dict[str, Any]]) -> None:
    """Events-bus handler: tell the console about committed ticket events, in their order (one commit's: one
    message per channel-layer group). (The bell's rows are written by its events subscriber,
    ``console.subscribers``, which nudges the bells itself once they are committed.)"""
    changes = [change_message(payload) for payload in payloads if payload.get("ticket_id")]
    if not changes:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    send_soon(_send_changes, layer, changes)


async def _send_bells(layer, user_ids: list[int]) -> None:
    for user_id in user_ids:
        await layer.group_send(bell_group(user_id), {"type": "bell.changed"})


def push_bells(user_ids) -> None:
    """Tell these agents' open pages that their bell has new lines (after the rows committed; may be lost)."""
    layer = get_channel_layer()
    if layer is not None and user_ids:  # a lost nudge costs nothing: the bell refreshes on load and every minute
        send_soon(_send_bells, layer, sorted(user_ids))


# Presence -------------------------------------------------------------------------------------------------------

def _presence_key(ticket_id: int) -> str:
    return f"console:presence:{int(ticket_id)}"


def _live_entries(ticket_id: int, now: float) -> dict[str, dict[str, Any]]:
    entries = cache.get(_presence_key(ticket_id)) or {}
    return {channel: entry for channel, entry in entries.items() if entry.get("expires", 0) > now}


def _viewers(entries: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per agent (an agent may have several tabs open); typing in any tab counts."""
    by_user: dict[int, dict[str, Any]] = {}
    for entry in entries.values():
        row = by_user.setdefault(entry["user_id"], {"user_id": entry["user_id"], "name": entry["name"],
                                                     "typing": False})
        row["typing"] = row["typing"] or bool(entry.get("typing"))
    return sorted(by_user.values(), key=lambda row: (row["name"].lower(), row["user_id"]))


def presence_touch(*, ticket_id: int, channel_name: str, user_id: int, name: str,
                   typing: bool | None = None) -> list[dict[str, Any]]:
    """Record (or refresh) one connection viewing a ticket; ``typing=None`` keeps the previous typing state.

    A read-modify-write on the cache: two processes touching the same ticket at the same instant may lose one
    update, which the next heartbeat repairs. Presence is advisory, so that is an acceptable trade for not
    running a separate presence service."""
    now = time.time()
    entries = _live_entries(ticket_id, now)
    previous = entries.get(channel_name, {})
    entries[channel_name] = {
        "user_id": user_id,
        "name": name,
        "typing": previous.get("typing", False) if typing is None else bool(typing),
        "expires": now + PRESENCE_TTL_SECONDS,
    }
    cache.set(_presence_key(ticket_id), entries, PRESENCE_TTL_SECONDS)
    return _viewers(entries)


def presence_leave(*, ticket_id: int, channel_name: str) -> list[dict[str, Any]]:
    entries = _live_entries(ticket_id, time.time())
    entries.pop(channel_name, None)
    if entries:
        cache.set(_presence_key(ticket_id), entries, PRESENCE_TTL_SECONDS)
    else:
        cache.delete(_presence_key(ticket_id))
    return _viewers(entries)


def presence_list(*, ticket_id: int) -> list[dict[str, Any]]:
    return _viewers(_live_entries(ticket_id, time.time()))
