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

The request's thread: Django enters each request into a ``ThreadSensitiveContext`` of its own, which starts a new
thread for the request and, when the request ends, a second one to join the first (``asgiref``), and the new thread
then builds its database connection wrapper afresh. Here each request borrows a thread that is already running
(``RequestThreads``: single-thread executors kept between requests, at most one request on each at a time) and
gives it back when the request has ended, as a WSGI server's worker threads are reused. Everything a request does
in sync code still runs in that one thread; a request that ends abnormally (cancelled while its sync part may
still be running) does not give its thread back: it is shut down as Django would.

One trip to that thread per request: Django's handler goes there three times (the ``request_started`` signal, the
view, then ``response.close()`` and its ``request_finished`` signal), each a hand-over between the event loop and
the thread. Here the signal, the middleware and view, and (for a response already in memory, which is every
response but a streaming one) the closing run in one trip, in that order; the response is then sent from the
event loop. A streaming response is closed after it has been sent, as Django does.

Streaming responses (file downloads: attachments, static files, logos; CSV exports) have synchronous iterators.
Django's handler reads such an iterator to its end into memory before sending a byte (with a warning), so a
25 MB attachment cost 25 MB per download and an audit export its whole size. Here it is read in the request's
thread a few hundred kilobytes at a time, each block sent before the next is read.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.urls import set_script_prefix
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


class RequestThreads:
    """Single-thread executors kept for the next request. Used only from the server's event loop."""

    def __init__(self, *, keep: int):
        self.keep = keep
        self.idle: list[ThreadPoolExecutor] = []

    def take(self) -> ThreadPoolExecutor:
        return self.idle.pop() if self.idle else ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        if len(self.idle) < self.keep:
            self.idle.append(executor)
        else:
            self.retire(executor)

    @staticmethod
    def retire(executor: ThreadPoolExecutor) -> None:
        """Shut down without waiting on the event loop (its thread may still be finishing a cancelled request)."""
        threading.Thread(target=executor.shutdown, daemon=True).start()


def request_threads_from_settings() -> RequestThreads:
    threads = int(getattr(settings, "ATENDE_REQUEST_THREADS", 0))
    return RequestThreads(keep=threads if threads > 0 else 32)


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
        self.threads = request_threads_from_settings()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self.threads.take()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        except BaseException:
            self.threads.retire(executor)
            raise
        self.threads.give_back(executor)

    def _serve(self, request, scope):
        """The request's one trip to its thread: ``request_started``, the middleware and view, and the closing of a
        response that is already in memory (``request_finished``: the database connection is given back)."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        response = self.get_response(request)
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        if not response.streaming:
            response.close()
        return response

    async def get_response_async(self, request):
        scope = request.scope
        gate = self.gate
        if gate is None:
            return await sync_to_async(self._serve, thread_sensitive=True)(request, scope)
        if not await gate.enter():
            response = overloaded_response(request, int(getattr(settings, "ATENDE_BUSY_RETRY_AFTER_SECONDS", 2)))
            response._handler_class = self.__class__
            return response
        try:
            return await sync_to_async(self._serve, thread_sensitive=True)(request, scope)
        finally:
            gate.leave()

    async def handle(self, scope, receive, send):
        """Django's ``ASGIHandler.handle`` with the one trip to the thread (``_serve``) in place of three."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            await signals.request_started.asend(sender=self.__class__, scope=scope)
            body_file.close()
            await self.send_response(error_response, send)
            await sync_to_async(error_response.close)()
            return

        async def process_request(request, send):
            response = await self.get_response_async(request)
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client went away while it was being sent
            return response

        # As Django: a disconnect while the response is being made cancels the waiting (the view itself runs on).
        tasks = [asyncio.create_task(self.listen_for_disconnect(receive)),
                 asyncio.create_task(process_request(request, send))]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            await signals.request_finished.asend(sender=self.__class__)
        else:
            if not response.closed:  # streamed (or refused at the gate): closed now that it has been sent
                await sync_to_async(response.close)()
        body_file.close()

    async def send_response(self, response, send):
        if response.streaming and not response.is_async:
            # The response keeps closing what it opened (the file) when it is closed after sending.
            response.streaming_content = _read_in_blocks(response.streaming_content)
        await super().send_response(response, send)


def sync_chain_asgi_application() -> SyncChainASGIHandler:
    """``django.core.asgi.get_asgi_application`` with this handler."""
    import django
    from django.urls import get_resolver

    django.setup(set_prefix=False)
    # Every view module is imported now, not on the first request: a broken import stops the server at start-up,
    # and the first visitor does not wait the seconds that importing the views and their libraries takes.
    get_resolver().url_patterns  # noqa: B018 - the property imports the URLconf and every ``include``
    return SyncChainASGIHandler()
