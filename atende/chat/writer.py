"""Group commit for the chat consumers: the messages and replies that arrive at the same moment on many
connections are written together, in one transaction (``services.chat_messages_write``), and each sender is then
answered with its own outcome.

One writer per event loop (the web process's). A message waits at most ``CHAT_WRITE_GATHER_SECONDS`` (3 ms) for
company when the writer is idle; while a group is being written, the messages arriving meanwhile wait for it and
leave together as the next group (up to ``CHAT_WRITE_GROUP_MAX``, 100). So at a trickle a message is written at
once, and under load the writers' turns, commits and the reads every message starts with are shared by many.

- Order: a conversation's messages are written in the order they reached the writer. A message whose
  conversation has a group being written waits for that group (the next group reads what it wrote).
- A group that takes longer than ``STALL_SECONDS`` (waiting for the database) does not hold up every other
  conversation: a second group may then be written beside it, never more than ``IN_FLIGHT``.
- A sender that went away meanwhile is not answered; its message is written all the same (as before: the page
  resends it, and the resend key stores it once).
"""

from __future__ import annotations

import asyncio
import collections
import weakref
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

STALL_SECONDS = 0.05
IN_FLIGHT = 2


@dataclass
class _Entry:
    key: Hashable
    item: Any
    future: asyncio.Future = field(repr=False)


class GroupWriter:
    """``await writer.submit(key, item)``: ``item`` written by ``write`` (a coroutine function taking a list of
    items and returning one outcome per item, an exception for a refused one) together with the items submitted
    at about the same time; returns the item's outcome or raises its exception. ``key``: what must keep its order
    (the conversation)."""

    def __init__(self, write: Callable[[list[Any]], Awaitable[list[Any]]], *, gather: float, most: int,
                 stall: float = STALL_SECONDS, in_flight: int = IN_FLIGHT):
        self.write, self.gather, self.most, self.stall, self.in_flight = write, gather, max(1, most), stall, in_flight
        self.pending: collections.deque[_Entry] = collections.deque()
        self.running: dict[asyncio.Task, set[Hashable]] = {}
        self.task: asyncio.Task | None = None
        self.groups = 0  # groups written, for tests and diagnostics

    async def submit(self, key: Hashable, item: Any) -> Any:
        future = asyncio.get_running_loop().create_future()
        self.pending.append(_Entry(key, item, future))
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self._run())
        return await future

    async def _run(self) -> None:
        if self.gather > 0 and not self.running and len(self.pending) < self.most:
            await asyncio.sleep(self.gather)  # company for a message that found the writer idle
        while self.pending:
            if self.running:
                finished, _ = await asyncio.wait(set(self.running), timeout=self.stall,
                                                 return_when=asyncio.FIRST_COMPLETED)
                if not finished and len(self.running) >= self.in_flight:
                    continue
            group = self._take()
            if not group:  # everything waiting belongs to conversations being written
                await asyncio.wait(set(self.running), return_when=asyncio.FIRST_COMPLETED)
                continue
            task = asyncio.ensure_future(self._write(group))
            self.running[task] = {entry.key for entry in group}
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self.running.pop(task, None)

    def _take(self) -> list[_Entry]:
        """The next group: the oldest waiting entries whose conversation has no group being written, up to the
        limit; the rest keep their order."""
        busy = set().union(*self.running.values()) if self.running else set()
        group, rest = [], collections.deque()
        for entry in self.pending:
            if len(group) < self.most and entry.key not in busy:
                group.append(entry)
            else:
                rest.append(entry)
        self.pending = rest
        return group

    async def _write(self, group: list[_Entry]) -> None:
        self.groups += 1
        try:
            outcomes = await self.write([entry.item for entry in group])
        except Exception as exc:  # noqa: BLE001 - every sender of the group hears of it
            outcomes = [exc] * len(group)
        except asyncio.CancelledError:
            for entry in group:
                entry.future.cancel()
            raise
        for entry, outcome in zip(group, outcomes, strict=True):
            if entry.future.done():  # its sender went away
                continue
            if isinstance(outcome, BaseException):
                entry.future.set_exception(outcome)
            else:
                entry.future.set_result(outcome)


_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, GroupWriter] = weakref.WeakKeyDictionary()


def writer_for(write: Callable[[list[Any]], Awaitable[list[Any]]]) -> GroupWriter:
    """The running loop's writer (made on first use, with ``write``)."""
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None:
        writer = _writers[loop] = GroupWriter(
            write, gather=float(getattr(settings, "CHAT_WRITE_GATHER_SECONDS", 0.003)),
            most=int(getattr(settings, "CHAT_WRITE_GROUP_MAX", 100)))
    return writer
