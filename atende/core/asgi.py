"""Django's ASGI handler with the whole request (middleware and view) run in one thread, as under WSGI, and a
bound on how many requests run at once.

Django's own handler loads the middleware in async mode: Django's middleware classes then run each
``process_request``/``process_response`` through ``sync_to_async``, and the chain crosses between the event loop
and a thread several times per request before the synchronous view runs. Every view here is synchronous, so
the middleware is loaded in sync mode and the request enters a thread once. Websockets (Channels consumers) and
the ASGI server's event loop are unaffected; each request still gets a thread of its own (Django's
``ThreadSensitiveContext``).

The bound (``RequestGate``): without one, every request the server accepts starts its thread at once, and under a
peak hundreds of threads share one interpreter lock and one database write lock, each advancing a little at a
time, so every request is slow and the process spends its time switching between them. Here at most
``REQUEST_THREADS`` requests run their synchronous part at once; the others wait their turn on the event loop (first
come, first served, holding no thread, no connection and no lock), at most ``REQUEST_QUEUE`` of them and for at most
``REQUEST_QUEUE_SECONDS``. A request beyond either bound is answered at once with 503 and ``Retry-After`` (the JSON
error ``busy`` under ``/api/``), never held until the client gives up and never a 500. A client that disconnects
while waiting is dropped from the queue without having run.

Streaming responses (file downloads: attachments, static files, logos; CSV exports) have synchronous iterators.
Django's handler reads such an iterator to its end into memory before sending a byte (with a warning), so a
25 MB attachment cost 25 MB per download and an audit export its whole size. Here it is read in the request's
thread a few hundred kilobytes at a time, each block sent before the next is read.
"""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _


class RequestGate:
    """At most ``threads`` requests inside, up to ``queue`` more waiting (FIFO) for up to ``wait`` seconds each.
    Used only from the server's event loop, so its counters need no lock."""

    def __init__(self, *, threads: int, queue: int, wait: float):
        self.threads, self.queue, self.wait = threads, queue, wait
        self.waiting = 0
        self._slots: asyncio.Semaphore | None = None

    @property
    def slots(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.threads)
        return self._slots

    @property
    def running(self) -> int:
        return self.threads - self.slots._value if self._slots is not None else 0

    async def enter(self) -> bool:
        """True with a slot taken (give it back with ``leave``); False when the request is to be refused."""
        if not self.slots.locked():
            await self.slots.acquire()
            return True
        if self.waiting >= self.queue:
            return False
        self.waiting += 1
        try:
            async with asyncio.timeout(self.wait):
                await self.slots.acquire()
            return True
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1

    def leave(self) -> None:
        self.slots.release()


def overloaded_response(request: HttpRequest, retry_after: int) -> HttpResponse:
    """503 for a request the server had no room for. Built on the event loop: no template, no database."""
    message = _("The desk is busy right now; please try again in a moment.")
    if request.path.startswith("/api/") or "json" in request.META.get("CONTENT_TYPE", "").lower():
        response = JsonResponse({"error": {"code": "busy", "message": message,
                                           "details": {"retry_after": retry_after}}}, status=503)
    else:
        response = HttpResponse(f"<!doctype html><title>503</title><p>{message}</p>", status=503)
    response["Retry-After"] = str(retry_after)
    return response


def gate_from_settings() -> RequestGate | None:
    threads = int(getattr(settings, "ATENDE_REQUEST_THREADS", 0))
    if threads <= 0:
        return None
    return RequestGate(threads=threads, queue=int(getattr(settings, "ATENDE_REQUEST_QUEUE", 1000)),
                       wait=float(getattr(settings, "ATENDE_REQUEST_QUEUE_SECONDS", 30)))


# How much of a synchronous streaming response is read per trip to the request's thread.
STREAM_BLOCK_BYTES = 256 * 1024


async def _read_in_blocks(chunks):
    """Yield ``chunks`` (a synchronous iterator) in blocks of about ``STREAM_BLOCK_BYTES``, each read in the request's
    thread (``thread_sensitive``: where the view ran, so a generator reading the database keeps its connection)."""
    iterator = iter(chunks)

    def read_block() -> bytes | None:
        parts, size = [], 0
        for part in iterator:
            parts.append(part)
            size += len(part)
            if size >= STREAM_BLOCK_BYTES:
                break
        return b"".join(parts) if parts else None

    while (block := await sync_to_async(read_block, thread_sensitive=True)()) is not None:
        yield block


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self):
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.gate = gate_from_settings()

    async def get_response_async(self, request):
        gate = self.gate
        if gate is None:
            return await sync_to_async(self.get_response, thread_sensitive=True)(request)
        if not await gate.enter():
            return overloaded_response(request, int(getattr(settings, "ATENDE_BUSY_RETRY_AFTER_SECONDS", 2)))
        try:
            return await sync_to_async(self.get_response, thread_sensitive=True)(request)
        finally:
            gate.leave()


    async def send_response(self, response, send):
        if response.streaming and not response.is_async:
            # The response keeps closing what it opened (the file) when it is closed after sending.
            response.streaming_content = _read_in_blocks(response.streaming_content)
        await super().send_response(response, send)


def sync_chain_asgi_application() -> SyncChainASGIHandler:
    """``django.core.asgi.get_asgi_application`` with this handler."""
    import django

    django.setup(set_prefix=False)
    return SyncChainASGIHandler()
