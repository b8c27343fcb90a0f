"""Run a coroutine to the end from synchronous code: pushes to Channels groups from services, subscribers and
commands.

``asgiref.async_to_sync`` does this by itself when the calling thread belongs to an ASGI server (a sync view,
the embedded worker): the coroutine runs on the server's loop, where the in-memory channel layer lives. Outside
a server (a worker process of its own, a management command, a benchmark) it starts a new thread with a new event
loop for every call, about half a millisecond of CPU per ticket event and a new Redis connection each time. Here
those callers share one loop on one long-lived thread instead, started on first use in each process; calls are
still awaited, so their order and errors are the caller's as before.

``send_soon`` is for pushes that may be lost (browsers re-sync): it hands the send to a loop and returns at once.
On a server thread that is the server's loop (waiting would hold the database thread every consumer shares until
the loop, busy with a thousand sockets, gets to it); elsewhere the shared loop (a service creating tickets one
after another, or the events worker, would otherwise wait for every push's Redis round trips: about a third of a
ticket's creation). Sends handed over while the loop has not yet taken the previous ones wake it once for all of
them. What is still being sent when the process exits is waited for, briefly (``flush``). Pushes to one group (or channel: the first argument, a name) start each
after the one before, so a group hears them in the order of their commits whatever the channel layer; pushes to
different groups go side by side. With Redis a group send is four round trips: one at a time, a web process could
not push more than a few hundred a second, whatever its CPU (at 100 chat messages a second, messages waited
seconds in line). Inside ``sends_together`` (a transaction that commits many changes at once) the pushes are held
and handed over together when the block ends, still in call order per group.
"""

from __future__ import annotations

import asyncio
import atexit
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
EXIT_WAIT_SECONDS = 2.0  # at most, at exit, for the pushes still on their way


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
            if _shared["pid"] != os.getpid():  # first use in this process (a forked child: not its parent's)
                _handoff.clear()
                _last_send.clear()
                atexit.register(flush, EXIT_WAIT_SECONDS)
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
    """Held pushes: started together on this thread's loop, or handed to the server's or the shared loop."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is not None:
        _start_all(running, sends)
        return
    _hand_to(server_loop() or _shared_loop(), sends)


def _start_all(loop: asyncio.AbstractEventLoop, sends: list[tuple[Callable[..., Awaitable[Any]], tuple]]) -> None:
    for func, args in sends:
        _start_in_order(loop, func, args)


# Sends handed to a loop from other threads that it has not taken yet, per loop: present while a wake-up is due.
_handoff: dict[asyncio.AbstractEventLoop, list[tuple[Callable[..., Awaitable[Any]], tuple]]] = {}
_handoff_lock = threading.Lock()


def _hand_to(loop: asyncio.AbstractEventLoop, sends: list[tuple[Callable[..., Awaitable[Any]], tuple]]) -> None:
    """Queue ``sends`` for ``loop`` (in call order) and wake it, unless a wake-up it has not taken yet will start
    them too: sends from a busy thread cost the loop one wake-up, not one each."""
    with _handoff_lock:
        waiting = _handoff.get(loop)
        if waiting is not None:
            waiting.extend(sends)
            return
        _handoff[loop] = list(sends)
    try:
        loop.call_soon_threadsafe(_take, loop)
    except RuntimeError:  # the loop has closed meanwhile: the pushes are lost, as they may be
        with _handoff_lock:
            _handoff.pop(loop, None)
        logger.warning("%d push(es) lost: their loop has closed", len(sends))


def _take(loop: asyncio.AbstractEventLoop) -> None:
    with _handoff_lock:
        sends = _handoff.pop(loop, [])
    _start_all(loop, sends)


def send_soon(func: Callable[..., Awaitable[Any]], *args: Any) -> None:
    """``func(*args)`` for a push that may be lost, started in call order without waiting for it: on this
    thread's own loop when called from async code, else on the server's loop (a server thread) or the shared
    loop (anywhere else). Errors are logged, never raised."""
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
    _hand_to(server_loop() or _shared_loop(), [(func, args)])


def flush(timeout: float = 5.0) -> bool:
    """Wait until what was handed to this process's shared loop so far has been sent (or has failed): at exit,
    so a command's or a worker's last pushes still leave, and in tests that look at what was pushed. True when
    nothing is left. (Pushes handed to a server's loop leave with that loop.)"""
    loop = _shared["loop"] if _shared["pid"] == os.getpid() else None
    if loop is None or loop.is_closed() or not loop.is_running():
        return True
    try:
        if asyncio.get_running_loop() is loop:
            return False  # on the loop itself: it cannot wait for its own work
    except RuntimeError:
        pass

    async def settled() -> None:
        while True:
            with _handoff_lock:
                queued = loop in _handoff
            pending = [task for (owner, _group), task in list(_last_send.items()) if owner is loop]
            if not queued and not pending:
                return
            if pending:
                await asyncio.wait(pending)
            else:
                await asyncio.sleep(0)

    try:
        asyncio.run_coroutine_threadsafe(settled(), loop).result(timeout=timeout)
    except TimeoutError:
        return False
    return True


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
