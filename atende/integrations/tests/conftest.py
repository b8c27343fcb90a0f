"""A real HTTP receiver on loopback for webhook tests: records requests, answers with a scripted status."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # Each request pops the next answer: an HTTP status, or ("sleep", seconds) to time out the sender.
    script: list = field(default_factory=list)
    default_status: int = 200
    connections: int = 0  # TCP connections accepted (HTTP/1.1: a kept-alive connection carries many requests)


@pytest.fixture
def receiver():
    yield from _receiver_server()


@pytest.fixture
def receivers():
    """Start as many receivers as a test asks for (``receivers()``); all stopped at the end."""
    started = []

    def start():
        server = _receiver_server()
        started.append(server)
        return next(server)

    yield start
    for server in started:
        next(server, None)


def _receiver_server():
    state: dict = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

        def setup(self):
            super().setup()
            state["receiver"].connections += 1

        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            rec: Receiver = state["receiver"]
            rec.requests.append(Received(path=self.path, headers=dict(self.headers.items()), body=body))
            answer = rec.script.pop(0) if rec.script else rec.default_status
            if isinstance(answer, tuple) and answer[0] == "sleep":
                time.sleep(answer[1])
                answer = 200
            try:
                text = b"ok" if answer < 300 else b"nope"
                self.send_response(answer)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)
            except (BrokenPipeError, ConnectionResetError):  # the sender timed out and hung up
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_port}/hook")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["receiver"]
    server.shutdown()
    server.server_close()
