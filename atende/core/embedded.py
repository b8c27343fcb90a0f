"""The worker and scheduler inside the web process (one-machine mode, the ``make run`` default).

They run as tasks of the ASGI server's event loop (through ``sync_to_async``), so code they run that pushes to
Channels groups (``async_to_sync(group_send)``) reaches the browsers connected to this same process even with the
in-memory channel layer. With Redis (``REDIS_URL``) the worker can equally run as separate processes.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from asgiref.sync import sync_to_async

from atende.core.outbox.worker import EventsWorker, default_worker_id
from atende.core.scheduler import run_forever

logger = logging.getLogger(__name__)


class EmbeddedWorkerApp:
    """ASGI wrapper: on lifespan startup, start the worker (events subscribers and background tasks,
    ``atende.core.outbox.worker``) and the scheduler; stop them on shutdown (the current batch finishes)."""

    def __init__(self, app):
        self.app = app
        self.worker = None
        self.stop_event = threading.Event()
        self.tasks: list[asyncio.Task] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _start(self) -> None:
        self.worker = EventsWorker(worker_id=default_worker_id("web"), interval=0.2, stop_event=self.stop_event)
        self.tasks = [
            asyncio.ensure_future(sync_to_async(self.worker.run, thread_sensitive=False)()),
            asyncio.ensure_future(sync_to_async(run_forever, thread_sensitive=False)(stop_event=self.stop_event)),
        ]
        logger.info("embedded worker and scheduler started")

    async def _stop(self) -> None:
        self.stop_event.set()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=10)
