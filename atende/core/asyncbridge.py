"""Run a coroutine to the end from synchronous code: pushes to Channels groups from services, subscribers and
commands.

``asgiref.async_to_sync`` does this by itself when the calling thread belongs to an ASGI server (a sync view,
the embedded worker): the coroutine runs on the server's loop, where the in-memory channel layer lives. Outside
a server (a worker process of its own, a management command, a benchmark) it starts a new thread with a new event
loop for every call, about half a millisecond of CPU per ticket event and a new Redis connection each time. Here
those callers share one loop on one long-lived thread instead, started on first use in each process; calls are
still awaited, so their order and errors are the caller's as before.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync

_lock = threading.Lock()
_shared: dict[str, Any] = {"pid": None, "loop": None}


def _server_loop_known() -> bool:
    """True in a thread an ASGI server runs sync code in (``async_to_sync`` then reuses the server's loop). A
    thread keeps the mark after its loop has stopped (tests do that): only a running loop counts."""
    local = SyncToAsync.threadlocal
    loop = getattr(local, "main_event_loop", None)
    return loop is not None and getattr(local, "main_event_loop_pid", None) == os.getpid() and \
        loop.is_running() and not loop.is_closed()


def _shared_loop() -> asyncio.AbstractEventLoop:
    with _lock:
        if _shared["pid"] != os.getpid() or _shared["loop"] is None or _shared["loop"].is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="atende-async-bridge", daemon=True).start()
            _shared.update(pid=os.getpid(), loop=loop)
        return _shared["loop"]


def run_sync(func: Callable[..., Awaitable[Any]], *args: Any, timeout: float = 30) -> Any:
    """``func(*args)`` awaited from sync code, returning its result or raising its error."""
    if _server_loop_known():
        return async_to_sync(func)(*args)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("run_sync called from a running event loop; await the coroutine instead")
    return asyncio.run_coroutine_threadsafe(func(*args), _shared_loop()).result(timeout=timeout)
