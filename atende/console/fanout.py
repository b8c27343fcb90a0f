"""Queue changes fanned out inside one web process: one channel-layer member per process, not per connection.

Every console connection wants every change it may see. With one channel-layer group member per connection, a
change to 1,000 connected agents meant 1,000 channel-layer deliveries, 1,000 consumer wake-ups through the
layer's receive machinery and 1,000 JSON encodings in one process. Here each process joins the ``queues`` group
once (the hub's own channel); the hub keeps its connections indexed by what they may see, computed once when
they connect (every ticket, or their teams plus what they are assigned), and writes the text the sender
encoded once to exactly those connections, with no database query and no per-connection filtering.

A hub belongs to one event loop (tests run each scenario on a new loop) and lives while it has connections.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

QUEUES_GROUP = "queues"
# Channel-layer group membership expires (channels_redis: after a day); the hub renews its own well before.
REJOIN_SECONDS = 3600


def change_text(change: dict[str, Any]) -> str:
    """The frame every console connection receives for one change (encoded once, by the sender)."""
    return json.dumps({"type": "ticket.changed", **change}, separators=(",", ":"))


class QueueHub:
    def __init__(self, layer, loop: asyncio.AbstractEventLoop) -> None:
        self.layer = layer
        self.loop = loop
        self.everything: set[Any] = set()
        self.by_team: dict[int, set[Any]] = {}
        self.by_user: dict[int, set[Any]] = {}
        self.members: dict[Any, tuple[int, frozenset[int] | None]] = {}
        self.channel: str | None = None
        self.tasks: list[asyncio.Task] = []
        self.lock = asyncio.Lock()

    async def join(self, consumer, *, user_id: int, team_ids: set[int] | None) -> None:
        """Register a connection: ``team_ids=None`` sees every ticket; else its teams' and its own tickets."""
        teams = None if team_ids is None else frozenset(team_ids)
        self.members[consumer] = (user_id, teams)
        if teams is None:
            self.everything.add(consumer)
        else:
            for team_id in teams:
                self.by_team.setdefault(team_id, set()).add(consumer)
            self.by_user.setdefault(user_id, set()).add(consumer)
        async with self.lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                await self.layer.group_add(QUEUES_GROUP, self.channel)
                self.tasks = [self.loop.create_task(self._receive(self.channel)),
                              self.loop.create_task(self._rejoin(self.channel))]

    async def leave(self, consumer) -> None:
        user_id, teams = self.members.pop(consumer, (None, None))
        self.everything.discard(consumer)
        for team_id in teams or ():
            _discard(self.by_team, team_id, consumer)
        if user_id is not None:
            _discard(self.by_user, user_id, consumer)
        async with self.lock:
            if self.members or self.channel is None:
                return
            channel, tasks, self.channel, self.tasks = self.channel, self.tasks, None, []
            for task in tasks:
                task.cancel()
            await self.layer.group_discard(QUEUES_GROUP, channel)

    def recipients(self, change: dict[str, Any]) -> set[Any]:
        """Who may hear of this change: the mirror of ``ticket_visibility_filter`` for staff, from the team and
        assignee the event carries (followers of other teams' tickets hear of them on the ticket's page)."""
        found = set(self.everything)
        found |= self.by_team.get(change.get("team_id"), set())
        found |= self.by_user.get(change.get("assignee_id"), set())
        return found

    async def deliver(self, message: dict[str, Any]) -> int:
        """Write one ``queue.event`` (or each change of a ``queue.events``, in order) to the connections that may
        see it; returns how many writes."""
        if message.get("type") == "queue.events":
            texts = message.get("texts") or [None] * len(message["changes"])
            written = 0
            for change, text in zip(message["changes"], texts, strict=True):
                written += await self.deliver({"type": "queue.event", "change": change, "text": text})
            return written
        change = message["change"]
        text = message.get("text") or change_text(change)
        ticket_id = change.get("ticket_id")
        # Pages showing this ticket hear of it once, through the ticket's own group.
        targets = [c for c in self.recipients(change) if ticket_id not in c.watching]
        # One write per connection, concurrently, so a client that is slow to read delays only itself.
        results = await asyncio.gather(*(c.send(text_data=text) for c in targets), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                logger.debug("queue change not delivered to a closing connection: %r", result)
        return len(targets)

    async def _receive(self, channel: str) -> None:
        while True:
            message = await self.layer.receive(channel)
            if message.get("type") not in ("queue.event", "queue.events"):
                continue
            try:
                await self.deliver(message)
            except Exception:  # one bad message must not end the process's fan-out
                logger.exception("queue change fan-out failed")

    async def _rejoin(self, channel: str) -> None:
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            await self.layer.group_add(QUEUES_GROUP, channel)


def _discard(index: dict[int, set[Any]], key: int, consumer) -> None:
    members = index.get(key)
    if members is not None:
        members.discard(consumer)
        if not members:
            del index[key]


_HUBS: dict[tuple[asyncio.AbstractEventLoop, int], QueueHub] = {}


def hub(layer=None) -> QueueHub:
    """The hub of this event loop and channel layer (created on first use)."""
    layer = layer or get_channel_layer()
    loop = asyncio.get_running_loop()
    found = _HUBS.get((loop, id(layer)))
    if found is None or found.layer is not layer:
        for key in [key for key, other in _HUBS.items() if key[0].is_closed() and not other.members]:
            del _HUBS[key]
        found = _HUBS[(loop, id(layer))] = QueueHub(layer, loop)
    return found
