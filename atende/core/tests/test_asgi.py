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
