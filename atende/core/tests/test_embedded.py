"""The one-process mode: the ASGI app starts the worker (events and tasks) and scheduler on lifespan startup."""

import asyncio

import pytest

from atende.core.embedded import EmbeddedWorkerApp


@pytest.mark.django_db(transaction=True)
def test_lifespan_starts_and_stops_worker_and_scheduler():
    calls = []

    async def inner(scope, receive, send):
        calls.append(scope["type"])

    app = EmbeddedWorkerApp(inner)
    messages = asyncio.Queue()
    sent = []

    async def receive():
        return await messages.get()

    async def send(message):
        sent.append(message["type"])

    async def run():
        await messages.put({"type": "lifespan.startup"})
        await messages.put({"type": "lifespan.shutdown"})
        await app({"type": "lifespan"}, receive, send)
        await app({"type": "http"}, receive, send)

    asyncio.run(run())
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert app.worker is not None and app.worker.stop_event.is_set()
    assert all(task.done() for task in app.tasks)
    assert calls == ["http"]
