"""Run a coroutine to the end from synchronous code: pushes to Channels groups from services, subscribers and
commands.

``asgiref.async_to_sync`` does this by itself when the calling thread belongs to an ASGI server (a sync view,
the embedded worker): the coroutine runs on the server's loop, where the in-memory channel layer lives. Outside
a server (a worker process of its own, a management command, a benchmark) it starts a new thread with a new event
loop for every call, about half a millisecond of CPU per ticket event and a new Redis connection each time. Here
those callers share one loop on one long-lived thread instead, started on first use in each process; calls are
still awaited, so their order and errors are the caller's as before.

``send_soon`` is for pushes that may be lost (browsers re-sync): on a server thread it hands the send to the
server's loop and returns at once (waiting would hold the database thread every consumer shares until the loop,
busy with a thousand sockets, gets to it). Pushes to one group (or channel: the first argument, a name) start each
after the one before, so a group hears them in the order of their commits whatever the channel layer; pushes to
different groups go side by side. With Redis a group send is four round trips: one at a time, a web process could
not push more than a few hundred a second, whatever its CPU (at 100 chat messages a second, messages waited
seconds in line). Inside ``sends_together`` (a transaction that commits many changes at once) the pushes are held
and handed over together when the block ends: one wake-up of the loop for all of them, still in call order per
group.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_shared: dict[str, Any] = {"pid": None, "loop": None}


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The ASGI server's loop when this thread runs sync code for it (``async_to_sync`` then reuses that loop).
    A thread keeps the mark after its loop has stopped (tests do that): only a running loop counts."""
    local = SyncToAsync.threadlocal
    loop = getattr(local, "main_event_loop", None)
    if loop is None or getattr(local, "main_event_loop_pid", None) != os.getpid():
        return None
    return loop if loop.is_running() and not loop.is_closed() else None


def _shared_loop() -> asyncio.AbstractEventLoop:
    with _lock:
        if _shared["pid"] != os.getpid() or _shared["loop"] is None or _shared["loop"].is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="atende-async-bridge", daemon=True).start()
            _shared.update(pid=os.getpid(), loop=loop)
        return _shared["loop"]


def run_sync(func: Callable[..., Awaitable[Any]], *args: Any, timeout: float = 30) -> Any:
    """``func(*args)`` awaited from sync code, returning its result or raising its error."""
    if server_loop() is not None:
        return async_to_sync(func)(*args)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("run_sync called from a running event loop; await the coroutine instead")
    return asyncio.run_coroutine_threadsafe(func(*args), _shared_loop()).result(timeout=timeout)


_last_send: dict[tuple[asyncio.AbstractEventLoop, str | None], asyncio.Task] = {}


_held = threading.local()


@contextmanager
def sends_together() -> Iterator[None]:
    """``send_soon`` calls made on this thread inside the block leave together when it ends (in call order; also
    when the block fails: what was pushed was committed). Nested blocks leave with the outermost."""
    if getattr(_held, "sends", None) is not None:
        yield
        return
    _held.sends = sends = []
    try:
        yield
    finally:
        _held.sends = None
        if sends:
            _hand_over(sends)


def _hand_over(sends: list[tuple[Callable[..., Awaitable[Any]], tuple]]) -> None:
    """Held pushes: started together on the loop (one wake-up), or awaited in turn outside a server."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is not None:
        _start_all(running, sends)
        return
    loop = server_loop()
    if loop is None:
        try:
            run_sync(_in_turn, sends)
        except Exception:
            logger.exception("pushes failed")
        return
    loop.call_soon_threadsafe(_start_all, loop, sends)


def _start_all(loop: asyncio.AbstractEventLoop, sends: list[tuple[Callable[..., Awaitable[Any]], tuple]]) -> None:
    for func, args in sends:
        _start_in_order(loop, func, args)


async def _in_turn(sends: list[tuple[Callable[..., Awaitable[Any]], tuple]]) -> None:
    for func, args in sends:
        try:
            await func(*args)
        except Exception:
            logger.exception("push %s failed", getattr(func, "__qualname__", func))


def send_soon(func: Callable[..., Awaitable[Any]], *args: Any) -> None:
    """``func(*args)`` for a push that may be lost: queued on the server's loop in call order without waiting
    (or on this thread's own loop, when called from async code), awaited on the shared loop outside a server.
    Errors are logged, never raised."""
    held = getattr(_held, "sends", None)
    if held is not None:
        held.append((func, args))
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is not None:
        _start_in_order(running, func, args)
        return
    loop = server_loop()
    if loop is None:
        try:
            run_sync(func, *args)
        except Exception:
            logger.exception("push %s failed", getattr(func, "__qualname__", func))
        return
    loop.call_soon_threadsafe(_start_in_order, loop, func, args)


def _start_in_order(loop: asyncio.AbstractEventLoop, func: Callable[..., Awaitable[Any]], args: tuple) -> None:
    """Start ``func(*args)`` after the last push to the same group (``args[0]`` when it is a name; any other
    push keeps to one line of its own)."""
    key = (loop, args[0] if args and isinstance(args[0], str) else None)
    previous = _last_send.get(key)

    async def send() -> None:
        if previous is not None and not previous.done():
            await asyncio.wait({previous})
        try:
            await func(*args)
        except Exception:
            logger.exception("push %s failed", getattr(func, "__qualname__", func))
        finally:
            if _last_send.get(key) is task:
                del _last_send[key]

    task = loop.create_task(send())
    _last_send[key] = task
