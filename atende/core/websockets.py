"""The base of the project's websocket consumers.

Channels' consumer runs ``close_old_connections`` before every message it dispatches, each time as a hop to the
one thread that sync code shares (``sync_to_async``, thread-sensitive): a frame from a browser, and every push
from the channel layer to every connection. With a thousand chat connections that was the larger part of the web
process's event loop (at 100 chat messages a second, about six hops per message and its reply, each a thread
hand-over and a wake-up of the loop), and each push queued behind the others on that one thread before it could
reach its socket.

The check belongs where the database is used: every database call of these consumers goes through
``channels.db.DatabaseSyncToAsync`` (``database_sync_to_async``, or ``chat.consumers.db``), which closes the
outdated connections of the thread it runs on before and after the call. The thread the dispatch hop reached
holds no connection these consumers use, so the hop checked nothing of theirs: it is left out.
"""

from __future__ import annotations

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer


class JsonConsumer(AsyncJsonWebsocketConsumer):
    """``AsyncJsonWebsocketConsumer`` whose dispatch goes straight to the handler (no connection check per
    message: see the module). A subclass must reach the database only through ``DatabaseSyncToAsync``."""

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
