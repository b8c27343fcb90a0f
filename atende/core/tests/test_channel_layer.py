"""The one-machine channel layer: the process holding the websockets (the hub) receives what other local processes
send, in their order; sends with no hub listening are dropped without an error; only the same user may connect."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from atende.core.channel_layer import LocalChannelLayer

ROOT = Path(__file__).resolve().parents[3]

CLIENT = textwrap.dedent("""
    import os, sys
    import django
    from django.conf import settings
    settings.configure(INSTALLED_APPS=[], CHANNEL_LAYERS={"default": {
        "BACKEND": "atende.core.channel_layer.LocalChannelLayer", "CONFIG": {"path": sys.argv[1]}}})
    django.setup()
    from channels.layers import get_channel_layer
    from atende.core.asyncbridge import run_sync
    layer = get_channel_layer()
    for n in range(int(sys.argv[2])):
        run_sync(layer.group_send, "chat.7", {"type": "chat.push", "session_id": 7, "event": {"n": n, "text": "é"}})
    run_sync(layer.send, sys.argv[3], {"type": "direct", "ok": True})
    print("sent")
""")


def run_client(path: str, count: int, channel: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run([sys.executable, "-c", CLIENT, path, str(count), channel], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_another_process_reaches_the_hubs_group_members_in_its_order(tmp_path):
    path = str(tmp_path / "run" / "channels.sock")

    async def scenario():
        hub = LocalChannelLayer(path=path)
        member = await hub.new_channel()  # as a consumer does when it starts: this process becomes the hub
        other = await hub.new_channel()
        await hub.group_add("chat.7", member)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        client = await asyncio.to_thread(run_client, path, 50, other)
        assert client.returncode == 0, client.stderr
        received = [await asyncio.wait_for(hub.receive(member), 10) for _ in range(50)]
        assert [m["event"]["n"] for m in received] == list(range(50))
        assert received[0] == {"type": "chat.push", "session_id": 7, "event": {"n": 0, "text": "é"}}
        assert await asyncio.wait_for(hub.receive(other), 10) == {"type": "direct", "ok": True}
        await hub.close()
        assert not Path(path).exists()

    asyncio.run(scenario())


def test_with_no_web_process_listening_a_push_is_dropped_quietly(tmp_path):
    path = str(tmp_path / "run" / "channels.sock")
    started = time.monotonic()
    client = run_client(path, 20, "specific..inmemory!abc")
    assert client.returncode == 0, client.stderr
    assert client.stdout.strip() == "sent"
    assert time.monotonic() - started < 30


def test_a_socket_left_by_a_dead_process_is_replaced_and_a_second_hub_does_not_steal_it(tmp_path, caplog):
    path = tmp_path / "run" / "channels.sock"
    path.parent.mkdir()
    path.write_text("")  # a stale file where the socket was

    async def scenario():
        first = LocalChannelLayer(path=str(path))
        member = await first.new_channel()
        await first.group_add("g", member)
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        second = LocalChannelLayer(path=str(path))
        await second.new_channel()
        assert second.server is None
        assert "another web process" in caplog.text
        client = LocalChannelLayer(path=str(path))  # never asked for a channel: a client
        await client.group_send("g", {"type": "x"})
        assert await asyncio.wait_for(first.receive(member), 10) == {"type": "x"}
        await first.close()

    asyncio.run(scenario())


def test_the_hubs_own_sends_stay_in_memory(tmp_path):
    async def scenario():
        hub = LocalChannelLayer(path=str(tmp_path / "run" / "channels.sock"))
        a, b = await hub.new_channel(), await hub.new_channel()
        await hub.group_add("g", a)
        await hub.group_add("g", b)
        message = {"type": "x", "payload": {"nested": [1, 2]}}
        await hub.group_send("g", message)
        got = [await hub.receive(a), await hub.receive(b)]
        assert got == [message, message]
        assert not hub._clients  # nothing went through the socket
        await hub.group_discard("g", a)
        await hub.group_send("g", {"type": "y"})
        assert await hub.receive(b) == {"type": "y"}
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(hub.receive(a), 0.2)
        await hub.close()

    asyncio.run(scenario())
