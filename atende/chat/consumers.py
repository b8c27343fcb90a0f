"""Live chat's websockets. Transport only (STYLE §5): authenticate, check access, call one service, forward.

Visitor socket ``/ws/chat/<widget key>/`` (any origin on the widget's allow-list; no cookies involved). JSON:
- visitor → server: ``{"action": "hello", "token"?}`` first; then ``suggest {text}``, ``start {question, name,
  email, page_url, language, identity?}``, ``message {text, cid}``, ``typing {typing}``, ``solved
  {article_id?}``, ``human``, ``end``, ``rate {rating, comment}``, ``transcript``, ``offline {name, email,
  question, website}``, ``heartbeat``.
- server → visitor: ``hello {token, online, state?, messages?}``, ``state {...}``, ``history {messages}``,
  ``message {message}``, ``typing {typing}``, ``suggestions {articles}``, ``done {action}``, ``error {code,
  message, retry_after?}``.

Agent socket ``/ws/console/chat/`` (the console's origin and session): ``list``, ``open {session_id}``,
``accept``, ``reply {text, cid}``, ``typing``, ``transfer {agent_id | team_id}``, ``end``, ``heartbeat``
(also moves stale offers on). Server → agent: ``list {waiting, mine}``, ``conversation {...}``, ``event
{session_id, event}``, ``typing {session_id, typing}``, ``done {action, session_id, message?}``, ``error``; an
answer to an action that carried a ``cid`` repeats it (the page holds a reply until it is answered).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import DatabaseSyncToAsync
from django.db import DEFAULT_DB_ALIAS, connections

from atende.chat import realtime
from atende.chat.consumer_io import (
    agent_conversation,
    agent_list,
    agent_reply,
    agent_run,
    messages_write,
    visitor_ack,
    visitor_hello,
    visitor_message,
    visitor_run,
    visitor_state,
)
from atende.chat.selectors import widget_get_active
from atende.chat.writer import writer_for
from atende.core.exceptions import DomainError, NotFound
from atende.core.websockets import JsonConsumer

logger = logging.getLogger(__name__)


def db(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """``func`` run on the event loop's thread pool, each call with a pooled connection of its own
    (``database_sync_to_async`` would queue every connection's work on the one thread all consumers share, so a
    read waited behind every write, and every write behind the one waiting for SQLite's write lock). A
    connection still handles its own messages one at a time, in order. An in-memory SQLite database (the tests')
    cannot be written from two connections at once: there the calls keep to the one shared thread."""
    return DatabaseSyncToAsync(func, thread_sensitive=_one_thread())


@functools.cache
def _one_thread() -> bool:
    connection = connections[DEFAULT_DB_ALIAS]
    return connection.vendor == "sqlite" and connection.is_in_memory_db()


async def _write_group(writes: list) -> list:
    return await db(messages_write)(writes=writes)


async def write(session_id: int, item: Any) -> dict[str, Any]:
    """A message or reply written with the others arriving at the same moment (``chat.writer``): its row, or
    its error raised."""
    return await writer_for(_write_group).submit(session_id, item)


CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


class Coalesced:
    """One re-read at a time per connection: a queue change arriving while a re-read is running (or queued on the
    database thread) asks for one more afterwards instead of one each. A burst of queue changes (many chats
    accepted at once) then costs each connection two reads, not one per change, and the database thread stays
    free for messages."""

    def __init__(self, refresh: Callable[[], Awaitable[None]]):
        self.refresh = refresh
        self.task: asyncio.Task | None = None
        self.again = False

    def request(self) -> None:
        if self.task is not None and not self.task.done():
            self.again = True
            return
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            self.again = False
            await self.refresh()
            if not self.again:
                return

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()


MAX_PENDING = 32  # actions one connection may have waiting (uvicorn's own per-connection queue is 32 frames)


class InOrder:
    """A connection's own actions (what its browser sends), run one at a time in arrival order on a task of the
    connection's own, beside the consumer's dispatch loop. Channels runs a consumer's handlers one at a time: when
    an action (an agent's reply, waiting for the database) ran in the dispatch loop, the pushes to that connection
    (the visitors' messages, from every conversation the agent holds) waited behind it, and an agent holding
    twenty conversations was behind as soon as a reply took longer than the gap between two messages. Pushes are
    now delivered while an action waits; the actions still run and answer in the order they came.
    An action that fails unexpectedly closes the connection (as an error in a handler did); one whose client has
    gone away ends quietly."""

    def __init__(self, run: Callable[[Any], Awaitable[None]], close: Callable[[], Awaitable[None]]):
        self.run, self.close = run, close
        self.pending: collections.deque = collections.deque()
        self.task: asyncio.Task | None = None

    async def put(self, action: Any) -> None:
        """Queue ``action``; beyond ``MAX_PENDING`` waiting, wait until they have run (the server then stops
        reading from that client until it has, as it did when every action ran in the dispatch loop)."""
        self.pending.append(action)
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self._work())
        if len(self.pending) > MAX_PENDING:
            await asyncio.wait({self.task})

    async def _work(self) -> None:
        while self.pending:
            try:
                await self.run(self.pending.popleft())
            except asyncio.CancelledError:
                raise
            except OSError:  # the client went away while its action ran (the server's ClientDisconnected)
                self.pending.clear()
                return
            except Exception:
                logger.exception("chat websocket action failed")
                self.pending.clear()
                await self.close()
                return

    @property
    def busy(self) -> bool:
        return self.task is not None and not self.task.done()

    def cancel(self) -> None:
        self.pending.clear()
        if self.task is not None:
            self.task.cancel()


# An agent's actions on one conversation run in order; on different conversations, side by side (an agent holds
# many: a reply in one waiting for the database must not hold up the replies in the others, which would otherwise
# queue one at a time behind every visitor's message). At most this many lanes per connection (a client naming
# many conversations shares one lane beyond it).
MAX_LANES = 64


def _lane(content: Any) -> int | None:
    if not isinstance(content, dict) or content.get("action") in ("list", "heartbeat"):
        return None
    try:
        return int(content.get("session_id"))
    except (TypeError, ValueError):
        return None


def _error(exc: DomainError) -> dict[str, Any]:
    body = {"type": "error", "code": exc.code, "message": str(exc.message if hasattr(exc, "message") else exc)}
    if getattr(exc, "retry_after", None):
        body["retry_after"] = exc.retry_after
    return body


def _answering(content: dict[str, Any]) -> dict[str, str]:
    """The client's id of the action being answered, so the page can stop holding it for a resend."""
    client_id = content.get("cid")
    return {"cid": client_id[:64]} if isinstance(client_id, str) and client_id else {}


class VisitorConsumer(JsonConsumer):
    widget: Any = None
    session_id: int | None = None
    visitor_id: str = ""
    waiting_group: str | None = None

    async def connect(self) -> None:
        self.queue_refresh = Coalesced(self._refresh_queue)
        self.actions = InOrder(self._act, self._close_on_error)
        key = self.scope["url_route"]["kwargs"]["key"]
        try:
            self.widget = await db(widget_get_active)(key=key)
        except NotFound:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        if not self.widget.allows_origin(_header(self.scope, b"origin"), own_host=_header(self.scope, b"host")):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        client = self.scope.get("client") or ("unknown", 0)
        self.client_ip = client[0] or "unknown"
        await self.accept()

    async def disconnect(self, code: int) -> None:
        self.actions.cancel()
        self.queue_refresh.cancel()
        await self._leave_session()

    async def _close_on_error(self) -> None:
        await self.close(code=1011)

    async def receive_json(self, content: Any, **kwargs) -> None:
        await self.actions.put(content)

    async def _leave_session(self) -> None:
        if self.session_id is not None:
            await self.channel_layer.group_discard(realtime.session_group(self.session_id), self.channel_name)
            await db(realtime.presence_leave)("visitor", self.session_id, self.channel_name)
            await self._announce_presence(False)
            self.session_id = None
        await self._leave_waiting()

    async def _act(self, content: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("action"), str):
            await self.send_json({"type": "error", "code": "bad_request", "message": "Expected a JSON object."})
            return
        action = content["action"]
        if action == "hello":
            await self._hello(str(content.get("token") or ""))
            return
        if action == "restart":  # a new conversation after one ended: a new visitor token
            await self._leave_session()
            await self._hello("")
            return
        if not self.visitor_id:
            await self.send_json({"type": "error", "code": "hello_first", "message": "Say hello first."})
            return
        if action == "heartbeat":
            if self.session_id is not None:
                await db(realtime.presence_touch)("visitor", self.session_id, self.channel_name)
            return
        if action == "typing":
            if self.session_id is not None:
                await self.channel_layer.group_send(realtime.session_group(self.session_id), {
                    "type": "chat.typing", "from": "visitor", "session_id": self.session_id,
                    "typing": bool(content.get("typing"))})
            return
        if action == "message" and self.session_id is not None:
            try:
                row = await write(self.session_id, visitor_message(session_id=self.session_id, content=content,
                                                                   client_ip=self.client_ip))
            except DomainError as exc:
                await self.send_json(_error(exc))
                return
            await self.send_json(visitor_ack(content, row))
            return
        try:
            reply = await db(visitor_run)(
                widget=self.widget, visitor_id=self.visitor_id, action=action, content=content,
                client_ip=self.client_ip, session_id=self.session_id)
        except DomainError as exc:
            await self.send_json(_error(exc))
            return
        if reply.get("session_id") and self.session_id is None:
            await self._join(reply["session_id"])
        for message in reply.get("send", []):
            await self.send_json(message)
        await self._follow_queue(reply.get("state"))

    async def _hello(self, token: str) -> None:
        hello = await db(visitor_hello)(widget=self.widget, token=token)
        self.visitor_id = hello.pop("visitor_id")
        session_id = hello.pop("session_id")
        if session_id is not None and self.session_id is None:
            await self._join(session_id)
        await self.send_json({"type": "hello", **hello})
        await self._follow_queue(hello.get("state"))

    async def _join(self, session_id: int) -> None:
        self.session_id = session_id
        await self.channel_layer.group_add(realtime.session_group(session_id), self.channel_name)
        await db(realtime.presence_touch)("visitor", session_id, self.channel_name)
        await self._announce_presence(True)

    async def _announce_presence(self, online: bool) -> None:
        if online is False:  # another tab of the visitor may still be open
            online = bool(await db(realtime.present)("visitor", [self.session_id]))
        await self.channel_layer.group_send(realtime.session_group(self.session_id), {
            "type": "chat.presence", "session_id": self.session_id, "visitor_online": online})

    async def _follow_queue(self, state: dict | None) -> None:
        """While waiting, listen to the queue's moves to tell the visitor their place."""
        if state and state.get("status") == "queued":
            group = realtime.waiting_group(state.get("team_id"))
            if group != self.waiting_group:
                await self._leave_waiting()
                self.waiting_group = group
                await self.channel_layer.group_add(group, self.channel_name)
        else:
            await self._leave_waiting()

    async def _leave_waiting(self) -> None:
        if self.waiting_group:
            await self.channel_layer.group_discard(self.waiting_group, self.channel_name)
            self.waiting_group = None

    # Group messages -----------------------------------------------------------------------------------------

    async def chat_push(self, message: dict[str, Any]) -> None:
        if "text" in message:  # an event encoded once for every connection (``realtime.push_message``)
            await self.send(text_data=message["text"])
            return
        event = message["event"]
        if event.get("type") == "state":
            event = {k: v for k, v in event.items() if k != "team_id"}
            await self._follow_queue(message["event"])
        await self.send_json(event)

    async def chat_queue(self, message: dict[str, Any]) -> None:
        self.queue_refresh.request()

    async def _refresh_queue(self) -> None:
        if self.session_id is None:
            return
        state = await db(visitor_state)(session_id=self.session_id)
        await self.send_json({"type": "state", **{k: v for k, v in state.items() if k != "team_id"}})
        await self._follow_queue(state)

    async def chat_typing(self, message: dict[str, Any]) -> None:
        if message["from"] == "agent":
            await self.send_json({"type": "typing", "typing": message["typing"]})

    async def chat_presence(self, message: dict[str, Any]) -> None:
        return  # the agents' business


class AgentConsumer(JsonConsumer):
    user: Any = None
    opened: set[int]

    async def connect(self) -> None:
        self.opened = set()
        self.list_refresh = Coalesced(self._send_list)
        self.lanes: dict[int | None, InOrder] = {}
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active or not user.is_agent:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user = user
        await self.channel_layer.group_add(realtime.AGENTS_GROUP, self.channel_name)
        await db(realtime.presence_touch)("agent", user.pk, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "user_id": user.pk, "heartbeat": realtime.HEARTBEAT_SECONDS})
        await self._send_list()

    async def disconnect(self, code: int) -> None:
        for lane in self.lanes.values():
            lane.cancel()
        self.list_refresh.cancel()
        if self.user is None:
            return
        await self.channel_layer.group_discard(realtime.AGENTS_GROUP, self.channel_name)
        for session_id in list(self.opened):
            await self.channel_layer.group_discard(realtime.session_group(session_id), self.channel_name)
        await db(realtime.presence_leave)("agent", self.user.pk, self.channel_name)

    async def _close_on_error(self) -> None:
        await self.close(code=1011)

    async def receive_json(self, content: Any, **kwargs) -> None:
        lane = _lane(content)
        if lane not in self.lanes and len(self.lanes) >= MAX_LANES:
            self.lanes = {key: actions for key, actions in self.lanes.items() if actions.busy}
            if len(self.lanes) >= MAX_LANES:
                lane = None
        if lane not in self.lanes:
            self.lanes[lane] = InOrder(self._act, self._close_on_error)
        await self.lanes[lane].put(content)

    async def _act(self, content: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("action"), str):
            await self.send_json({"type": "error", "code": "bad_request", "message": "Expected a JSON object."})
            return
        action = content["action"]
        if action == "heartbeat":
            await db(realtime.presence_touch)("agent", self.user.pk, self.channel_name)
            await db(agent_run)(user=self.user, action="reoffer", content={})
            return
        if action == "list":
            await self._send_list()
            return
        try:
            session_id = int(content.get("session_id"))
        except (TypeError, ValueError):
            await self.send_json({"type": "error", "code": "bad_request", "message": "session_id is required."})
            return
        try:
            if action == "open":
                conversation = await db(agent_conversation)(user=self.user, session_id=session_id)
                if session_id not in self.opened:
                    self.opened.add(session_id)
                    await self.channel_layer.group_add(realtime.session_group(session_id), self.channel_name)
                await self.send_json({"type": "conversation", **conversation})
                return
            if action == "typing":
                if session_id in self.opened:
                    await self.channel_layer.group_send(realtime.session_group(session_id), {
                        "type": "chat.typing", "from": "agent", "session_id": session_id,
                        "typing": bool(content.get("typing"))})
                return
            if action == "reply":
                reply = {"message": await write(session_id, agent_reply(user=self.user, session_id=session_id,
                                                                        content=content))}
            else:
                reply = await db(agent_run)(user=self.user, action=action, content=content, session_id=session_id)
        except DomainError as exc:
            await self.send_json({**_error(exc), "session_id": session_id, **_answering(content)})
            return
        await self.send_json({"type": "done", "action": action, "session_id": session_id, **reply,
                              **_answering(content)})

    async def _send_list(self) -> None:
        await self.send_json({"type": "list", **await db(agent_list)(user=self.user)})

    async def chat_queue(self, message: dict[str, Any]) -> None:
        self.list_refresh.request()

    async def chat_push(self, message: dict[str, Any]) -> None:
        session_id = int(message.get("session_id") or 0) or None
        if "text" in message:  # the event's JSON, encoded once for every connection
            await self.send(text_data=f'{{"type": "event", "session_id": {json.dumps(session_id)}, '
                                      f'"event": {message["text"]}}}')
            return
        await self.send_json({"type": "event", "session_id": session_id, "event": message["event"]})

    async def chat_typing(self, message: dict[str, Any]) -> None:
        if message["from"] == "visitor":
            await self.send_json({"type": "typing", "session_id": message["session_id"], "typing": message["typing"]})

    async def chat_presence(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "presence", "session_id": message["session_id"],
                              "visitor_online": message["visitor_online"]})
