"""The console's websocket: ticket change notifications and presence. Transport only (STYLE §5).

Protocol (JSON both ways):

- server → browser: ``{"type": "hello", "user_id"}``; ``{"type": "ticket.changed", ...change}`` (see
  ``realtime.change_message``); ``{"type": "presence", "ticket_id", "viewers": [{"user_id", "name", "typing"}]}``;
  ``{"type": "error", "code"}``; ``{"type": "notifications.changed"}`` (the agent's bell has new lines).
- browser → server: ``{"action": "watch", "ticket_id"}`` (join a ticket page; access-checked),
  ``{"action": "unwatch", "ticket_id"}``, ``{"action": "typing", "ticket_id", "typing": bool}``,
  ``{"action": "heartbeat"}`` (keeps presence alive).
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from atende.accounts.selectors import team_ids_for_user
from atende.console import fanout, realtime
from atende.core.exceptions import NotFound
from atende.core.websockets import JsonConsumer
from atende.tickets.selectors import access_ticket

CLOSE_FORBIDDEN = 4403


class ConsoleConsumer(JsonConsumer):
    user: Any = None
    restricted_team_ids: set[int] | None = None  # None: sees every ticket
    watching: set[int]

    async def connect(self) -> None:
        self.watching = set()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active or not user.is_staff_member:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user = user
        self.display_name = user.display_name
        if not user.is_admin and (user.is_collaborator or user.restrict_to_teams):
            self.restricted_team_ids = set(await database_sync_to_async(team_ids_for_user)(user))
        # Queue changes come through the process's hub, filtered by this visibility (no query per change).
        await fanout.hub(self.channel_layer).join(self, user_id=user.pk, team_ids=self.restricted_team_ids)
        await self.channel_layer.group_add(realtime.bell_group(user.pk), self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "user_id": user.pk, "heartbeat": realtime.HEARTBEAT_SECONDS})

    async def disconnect(self, code: int) -> None:
        if self.user is None:
            return
        await fanout.hub(self.channel_layer).leave(self)
        await self.channel_layer.group_discard(realtime.bell_group(self.user.pk), self.channel_name)
        for ticket_id in list(self.watching):
            await self._unwatch(ticket_id)

    async def receive_json(self, content: Any, **kwargs) -> None:
        if not isinstance(content, dict):
            return
        action = content.get("action")
        ticket_id = content.get("ticket_id")
        if action == "heartbeat":
            for watched in list(self.watching):
                await self._touch(watched, typing=None, announce=False)
            return
        try:
            ticket_id = int(ticket_id)
        except (TypeError, ValueError):
            await self.send_json({"type": "error", "code": "bad_request"})
            return
        if action == "watch":
            await self._watch(ticket_id)
        elif action == "unwatch" and ticket_id in self.watching:
            await self._unwatch(ticket_id)
        elif action == "typing" and ticket_id in self.watching:
            await self._touch(ticket_id, typing=bool(content.get("typing")), announce=True)
        else:
            await self.send_json({"type": "error", "code": "bad_request"})

    # Ticket pages -------------------------------------------------------------------------------------------

    async def _watch(self, ticket_id: int) -> None:
        try:
            await database_sync_to_async(access_ticket)(user=self.user, ticket_id=ticket_id)
        except NotFound:
            await self.send_json({"type": "error", "code": "not_found", "ticket_id": ticket_id})
            return
        self.watching.add(ticket_id)
        await self.channel_layer.group_add(realtime.ticket_group(ticket_id), self.channel_name)
        await self._touch(ticket_id, typing=False, announce=True)

    async def _unwatch(self, ticket_id: int) -> None:
        self.watching.discard(ticket_id)
        await self.channel_layer.group_discard(realtime.ticket_group(ticket_id), self.channel_name)
        viewers = await sync_to_async(realtime.presence_leave)(ticket_id=ticket_id, channel_name=self.channel_name)
        await self._announce(ticket_id, viewers)

    async def _touch(self, ticket_id: int, *, typing: bool | None, announce: bool) -> None:
        viewers = await sync_to_async(realtime.presence_touch)(
            ticket_id=ticket_id, channel_name=self.channel_name, user_id=self.user.pk, name=self.display_name,
            typing=typing)
        if announce:
            await self._announce(ticket_id, viewers)

    async def _announce(self, ticket_id: int, viewers: list[dict[str, Any]]) -> None:
        await self.channel_layer.group_send(realtime.ticket_group(ticket_id),
                                            {"type": "presence.changed", "ticket_id": ticket_id, "viewers": viewers})

    # Group messages -----------------------------------------------------------------------------------------

    async def ticket_event(self, message: dict[str, Any]) -> None:
        """A change to a ticket this connection watches (access was checked when it started watching)."""
        await self.send(text_data=message.get("text") or fanout.change_text(message["change"]))

    async def ticket_events(self, message: dict[str, Any]) -> None:
        """Several changes to a ticket this connection watches, committed together: one frame each, in order."""
        texts = message.get("texts") or [None] * len(message["changes"])
        for change, text in zip(message["changes"], texts, strict=True):
            await self.send(text_data=text or fanout.change_text(change))

    async def bell_changed(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "notifications.changed"})

    async def presence_changed(self, message: dict[str, Any]) -> None:
        if message["ticket_id"] in self.watching:
            await self.send_json({"type": "presence", "ticket_id": message["ticket_id"],
                                  "viewers": message["viewers"]})
