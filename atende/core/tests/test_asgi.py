"""The ASGI application serves Django's views through the one-thread handler (atende/core/asgi.py)."""

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from asgiref.testing import ApplicationCommunicator

from atende.core.asgi import SyncChainASGIHandler


async def _get(handler, scope):
    app = ApplicationCommunicator(handler, scope)
    await app.send_input({"type": "http.request", "body": b"", "more_body": False})
    return await app.receive_output(10), await app.receive_output(10)


@pytest.mark.django_db(transaction=True)
def test_a_page_is_served_with_the_middleware_loaded_in_sync_mode():
    handler = SyncChainASGIHandler()
    assert not iscoroutinefunction(handler._middleware_chain)
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": "/accounts/login/", "raw_path": b"/accounts/login/", "query_string": b"",
             "root_path": "", "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 5000),
             "server": ("testserver", 80)}
    start, body = async_to_sync(_get)(handler, scope)
    assert start["status"] == 200
    headers = {name.lower(): value for name, value in start["headers"]}
    assert headers[b"x-frame-options"] == b"DENY" and b"Accept-Language" in headers[b"vary"]  # the middleware ran
    assert b"csrfmiddlewaretoken" in body["body"]


# --- the bound on requests running at once (RequestGate) ------------------------------------------------------

def _scope(path: str) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}


class Recorder:
    """Stands in for the middleware chain: records who ran, how many at once, and blocks until released."""

    def __init__(self):
        import threading
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.inside = self.most = 0
        self.ran: list[str] = []

    def __call__(self, request):
        from django.http import HttpResponse
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
            self.ran.append(request.path)
        self.release.wait(10)
        with self.lock:
            self.inside -= 1
        return HttpResponse(b"done " + request.path.encode())


def _gated(settings, monkeypatch, *, threads: int, queue: int, wait: float):
    settings.ATENDE_REQUEST_THREADS, settings.ATENDE_REQUEST_QUEUE = threads, queue
    settings.ATENDE_REQUEST_QUEUE_SECONDS = wait
    handler = SyncChainASGIHandler()
    recorder = Recorder()
    monkeypatch.setattr(handler, "get_response", recorder)
    return handler, recorder


async def _start(handler, path):
    app = ApplicationCommunicator(handler, _scope(path))
    await app.send_input({"type": "http.request", "body": b"", "more_body": False})
    return app


async def _answer(app, timeout=10):
    start = await app.receive_output(timeout)
    body = await app.receive_output(timeout)
    return start["status"], dict(start["headers"]), body["body"]


async def _until(predicate, timeout=5.0):
    import asyncio
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


@pytest.mark.parametrize("path, json_body", [("/api/v1/tickets", True), ("/console/", False)])
def test_a_request_beyond_the_queue_is_refused_at_once_with_503_busy(settings, monkeypatch, path, json_body):
    import json
    handler, recorder = _gated(settings, monkeypatch, threads=1, queue=0, wait=30)

    async def run():
        first = await _start(handler, "/first")
        await _until(lambda: recorder.inside == 1)
        second = await _start(handler, path)
        refused = await _answer(second, timeout=2)  # at once, while the first still runs
        recorder.release.set()
        return refused, await _answer(first)

    (status, headers, body), first = async_to_sync(run)()
    assert status == 503 and headers[b"Retry-After"] == b"2"
    if json_body:
        assert json.loads(body)["error"]["code"] == "busy"
        assert headers[b"Content-Type"] == b"application/json"
    else:
        assert b"busy" in body
    assert first[0] == 200
    assert recorder.ran == ["/first"]  # the refused request never reached the views


def test_a_request_that_waits_longer_than_the_queue_allows_is_refused(settings, monkeypatch):
    handler, recorder = _gated(settings, monkeypatch, threads=1, queue=10, wait=0.2)

    async def run():
        first = await _start(handler, "/first")
        await _until(lambda: recorder.inside == 1)
        second = await _start(handler, "/api/v1/tickets")
        refused = await _answer(second, timeout=3)
        recorder.release.set()
        await _answer(first)
        return refused

    assert async_to_sync(run)()[0] == 503
    assert recorder.ran == ["/first"]


@pytest.mark.parametrize("threads", [1, 2])
def test_requests_beyond_the_bound_wait_their_turn_in_order_and_all_succeed(settings, monkeypatch, threads):
    handler, recorder = _gated(settings, monkeypatch, threads=threads, queue=100, wait=30)

    async def run():
        apps = []
        for i in range(8):
            apps.append(await _start(handler, f"/r{i}"))
            if i < threads:
                await _until(lambda i=i: recorder.inside == i + 1)
            else:  # each in the queue before the next arrives, so their order of arrival is known
                await _until(lambda i=i: handler.gate.waiting == i + 1 - threads)
        await _until(lambda: handler.gate.waiting == 8 - threads)
        assert recorder.inside == threads  # the others hold no thread
        recorder.release.set()
        return [await _answer(app) for app in apps]

    answers = async_to_sync(run)()
    assert [a[0] for a in answers] == [200] * 8
    assert recorder.most == threads
    if threads == 1:  # one at a time: they ran in the order they came (with two, the pair admitted together race)
        assert recorder.ran == [f"/r{i}" for i in range(8)]
    assert handler.gate.running == 0 and handler.gate.waiting == 0  # every slot given back


def test_a_client_that_leaves_while_waiting_never_runs(settings, monkeypatch):
    handler, recorder = _gated(settings, monkeypatch, threads=1, queue=10, wait=30)

    async def run():
        first = await _start(handler, "/first")
        await _until(lambda: recorder.inside == 1)
        leaving = await _start(handler, "/leaving")
        await _until(lambda: handler.gate.waiting == 1)
        await leaving.send_input({"type": "http.disconnect"})
        await _until(lambda: handler.gate.waiting == 0)
        recorder.release.set()
        await _answer(first)
        third = await _start(handler, "/third")
        return await _answer(third)

    assert async_to_sync(run)()[0] == 200
    assert recorder.ran == ["/first", "/third"]


def test_no_bound_when_request_threads_is_zero(settings):
    settings.ATENDE_REQUEST_THREADS = 0
    assert SyncChainASGIHandler().gate is None


# --- streaming responses ----------------------------------------------------------------------------------------

def test_a_streaming_response_is_sent_while_it_is_read_not_after_it_was_read_into_memory():
    """The class: every download (attachments, static files, logos) and streamed export has a synchronous
    iterator; Django's handler read it whole into memory, with a warning, before sending a byte."""
    import warnings

    from django.http import StreamingHttpResponse

    read = []

    def chunks():
        for i in range(40):  # 40 × 64 KB
            read.append(i)
            yield bytes([65 + i % 26]) * 65536

    received = []

    async def send(message):
        if message["type"] == "http.response.body":
            received.append((len(read), message.get("body", b"")))

    handler = SyncChainASGIHandler()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async_to_sync(handler.send_response)(StreamingHttpResponse(chunks()), send)
    assert not [w for w in caught if "synchronous iterators" in str(w.message)]
    assert b"".join(body for _, body in received) == b"".join(bytes([65 + i % 26]) * 65536 for i in range(40))
    first_read_before_sending = received[0][0]
    assert first_read_before_sending < 40  # the first block went out with most of the content still unread


@pytest.mark.django_db(transaction=True)
async def _response(app) -> tuple[dict, bytes]:
    """The response's start message and its whole body, however many messages it came in."""
    start, body = await app.receive_output(10), b""
    while True:
        message = await app.receive_output(10)
        body += message.get("body", b"")
        if not message.get("more_body"):
            return start, body


def test_a_file_download_through_the_handler_arrives_whole(tmp_path):
    from django.http import FileResponse

    content = bytes(range(256)) * 8192  # 2 MB
    path = tmp_path / "big.bin"
    path.write_bytes(content)
    handler = SyncChainASGIHandler()
    handler._middleware_chain = lambda request: FileResponse(path.open("rb"), as_attachment=True, filename="big.bin")

    async def download():
        app = ApplicationCommunicator(handler, _scope("/download"))
        await app.send_input({"type": "http.request", "body": b"", "more_body": False})
        return await _response(app)

    start, body = async_to_sync(download)()
    assert start["status"] == 200 and body == content


# --- the request's thread: kept between requests, reached once ---------------------------------------------------

async def _serve_all(handler, paths):
    out = []
    for path in paths:
        app = ApplicationCommunicator(handler, _scope(path))
        await app.send_input({"type": "http.request", "body": b"", "more_body": False})
        start, body = await _response(app)
        await app.wait(10)  # the handler has finished (a streamed response is closed after it was sent)
        out.append((start["status"], body))
    return out


def _served(handler, paths):
    return async_to_sync(_serve_all)(handler, paths)


def test_requests_reuse_a_kept_thread_and_start_none(settings, monkeypatch):
    import threading

    from django.http import HttpResponse

    settings.ATENDE_REQUEST_THREADS = 2
    handler = SyncChainASGIHandler()
    seen = []
    monkeypatch.setattr(handler, "get_response",
                        lambda request: seen.append(threading.get_ident()) or HttpResponse(b"ok"))
    started = []
    real_start = threading.Thread.start

    async def run():
        await _serve_all(handler, ["/warm"])
        monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self.name) or real_start(self))
        return await _serve_all(handler, ["/a", "/b", "/c"])

    answers = async_to_sync(run)()
    assert answers == [(200, b"ok")] * 3
    assert started == []  # Django's handler starts two threads per request (the request's, and one to join it)
    assert len(set(seen)) == 1 and seen[0] != threading.get_ident()


def test_a_request_reaches_its_thread_once_with_the_signals_there_in_order(settings, monkeypatch):
    import threading

    from django.core import signals
    from django.http import HttpResponse, StreamingHttpResponse

    import atende.core.asgi as asgi_module

    handler = SyncChainASGIHandler()
    log = []
    trips = []
    real = asgi_module.sync_to_async

    def counting(func, **kwargs):
        trips.append(getattr(func, "__name__", "?"))
        return real(func, **kwargs)

    monkeypatch.setattr(asgi_module, "sync_to_async", counting)

    def view(request):
        log.append(("view", threading.get_ident()))
        if request.path == "/stream":
            return StreamingHttpResponse(iter([b"a", b"b"]))
        return HttpResponse(b"ok")

    monkeypatch.setattr(handler, "_middleware_chain", view)

    def started(**kwargs):
        log.append(("started", threading.get_ident()))

    def finished(**kwargs):
        log.append(("finished", threading.get_ident()))

    signals.request_started.connect(started, weak=False)
    signals.request_finished.connect(finished, weak=False)
    try:
        assert _served(handler, ["/page"]) == [(200, b"ok")]
        assert trips == ["_serve"]  # Django's handler: request_started, the view, response.close: three trips
        assert [name for name, _ in log] == ["started", "view", "finished"]
        assert len({ident for _, ident in log}) == 1
        log.clear()
        trips.clear()
        assert _served(handler, ["/stream"]) == [(200, b"ab")]
        assert [name for name, _ in log] == ["started", "view", "finished"]  # closed after it was sent
        assert trips[0] == "_serve" and trips[-1] == "close"
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
