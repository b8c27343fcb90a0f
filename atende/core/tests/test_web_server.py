"""The served product keeps an idle connection open longer than clients keep theirs, so a client that reuses one
is answered instead of finding it closed under its request (uvicorn's default closed them after 5 s, the same
moment httpx lets go of them); a wrong ``WEB_KEEP_ALIVE`` stops ``atende serve`` with a clear error."""

import http.client
import time

import pytest
from django.core.management import CommandError, call_command

from atende.core.testing.server import demo_server
from atende.core.web_server import KEEP_ALIVE_SECONDS, keep_alive_seconds, uvicorn_options

CLIENT_IDLE_SECONDS = 6  # past httpx's 5 s and uvicorn's own default


@pytest.mark.slow
@pytest.mark.parametrize("serve", [True, False], ids=["atende-serve", "uvicorn-as-tests-start-it"])
def test_a_connection_idle_longer_than_a_clients_keep_alive_is_still_answered(tmp_path, serve):
    with demo_server(tmp_path, tickets=1, serve=serve) as (base, _database):
        host, port = base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            connection.request("GET", "/healthz")
            first = connection.getresponse()
            first.read()
            assert first.status == 200
            assert first.getheader("connection", "").lower() != "close"
            socket_before = connection.sock
            time.sleep(CLIENT_IDLE_SECONDS)
            connection.request("GET", "/healthz")  # on the same connection: http.client reopens only a closed one
            assert connection.sock is socket_before
            second = connection.getresponse()  # the server having closed it: RemoteDisconnected
            second.read()
            assert second.status == 200
        finally:
            connection.close()


@pytest.mark.parametrize(("raw", "seconds"), [
    (None, KEEP_ALIVE_SECONDS), ("", KEEP_ALIVE_SECONDS), ("  ", KEEP_ALIVE_SECONDS), ("1", 1), (" 120 ", 120),
])
def test_keep_alive_comes_from_the_environment(raw, seconds):
    environ = {} if raw is None else {"WEB_KEEP_ALIVE": raw}
    assert keep_alive_seconds(environ) == seconds
    assert uvicorn_options(environ) == ["--timeout-keep-alive", str(seconds)]


@pytest.mark.parametrize("raw", ["0", "-5", "1.5", "ten", "75s", "1e3"])
def test_a_keep_alive_that_is_not_a_whole_positive_number_of_seconds_is_refused(raw, monkeypatch):
    with pytest.raises(ValueError, match="WEB_KEEP_ALIVE must be a whole number of seconds"):
        keep_alive_seconds({"WEB_KEEP_ALIVE": raw})
    monkeypatch.setenv("WEB_KEEP_ALIVE", raw)
    with pytest.raises(CommandError, match="WEB_KEEP_ALIVE"):  # before any process starts
        call_command("serve", "--port", "1")
