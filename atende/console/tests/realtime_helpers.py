"""Websocket test helpers: a console connection with a real session cookie, on the real ASGI application."""

from __future__ import annotations

import json
from unittest import mock
from urllib.parse import urlparse

from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.test import Client

from atende.config.asgi import application


class WebsocketCommunicator(ApplicationCommunicator):
    """The subset of ``channels.testing.WebsocketCommunicator`` these tests use. Channels' own class cannot be
    imported here: ``channels.testing`` imports its live-server test case, which needs daphne (not installed)."""

    def __init__(self, app, path: str, headers=None):
        parsed = urlparse(path)
        super().__init__(app, {"type": "websocket", "path": parsed.path, "query_string": parsed.query.encode(),
                               "headers": headers or [], "subprotocols": []})

    async def send_input(self, message):
        # As Channels' communicator does: keep the test's database connection open across consumer calls.
        with mock.patch("channels.db.close_old_connections", lambda: None):
            return await super().send_input(message)

    async def receive_output(self, timeout=1):
        with mock.patch("channels.db.close_old_connections", lambda: None):
            return await super().receive_output(timeout)

    async def connect(self, timeout: float = 2):
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept"
        return True, response.get("subprotocol")

    async def send_json_to(self, data) -> None:
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_json_from(self, timeout: float = 2):
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def disconnect(self, code: int = 1000, timeout: float = 2) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def console_socket(cookie: str | None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1")]
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(application, "/ws/console/", headers=headers)


async def connected(cookie: str) -> WebsocketCommunicator:
    socket = console_socket(cookie)
    ok, _ = await socket.connect()
    assert ok
    hello = await socket.receive_json_from(timeout=3)
    assert hello["type"] == "hello"
    return socket


async def receive_until(socket: WebsocketCommunicator, predicate, *, timeout: float = 3) -> dict:
    """Skip unrelated frames (presence updates interleave with change notices) until one matches."""
    while True:
        frame = await socket.receive_json_from(timeout=timeout)
        if predicate(frame):
            return frame
