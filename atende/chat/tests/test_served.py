"""Live chat against the product as ``atende serve`` serves it on one machine (uvicorn as a child process, the
events worker and scheduler in the serve process, no Redis): what the worker pushes reaches the web process's
websockets, and the worker reads the presence the web process records. And without any worker: a conversation's
messages go from one side to the other straight from the web process, after their commit."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from atende.core.testing.server import ROOT, demo_server, query, server_env

pytestmark = [pytest.mark.slow]

SETUP = """
import json
import django
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from atende.accounts.choices import Availability, Role
from atende.accounts.services import user_create
from atende.chat.models import Widget
widget = Widget.objects.select_related("team").order_by("id").first()
user = user_create(email="served-agent@example.test", name="Served Agent", role=Role.AGENT, password=None,
                   availability=Availability.ONLINE)
widget.team.members.add(user)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "atende.accounts.backends.EmailBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(json.dumps({"key": widget.key, "cookie": session.session_key, "agent": user.pk}))
"""

REPLY_ELSEWHERE = """
import sys
import django
django.setup()
from atende.accounts.models import User
from atende.chat.models import ChatSession
from atende.core.actor import Actor
from atende.tickets.services import message_add_reply
session = ChatSession.objects.select_related("ticket").get(pk=int(sys.argv[1]))
agent = User.objects.get(pk=int(sys.argv[2]))
message_add_reply(ticket=session.ticket, actor=Actor.for_user(agent), body_text="Answered from the ticket page")
"""


def run_on_desk(database: Path, code: str, *args) -> str:
    """Python run against the served desk's database, as one of its processes (same settings and VAR_DIR)."""
    env = server_env(database) | {"DJANGO_SETTINGS_MODULE": "atende.config.settings.dev", "DEBUG": "0"}
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


async def frame_until(ws, match, timeout: float = 30) -> dict:
    async def read():
        while True:
            frame = json.loads(await ws.recv())
            if match(frame):
                return frame

    return await asyncio.wait_for(read(), timeout)


async def conversation(base: str, desk: dict, *, email: str = ""):
    """A visitor hands over to a person and the agent accepts and opens the chat: (visitor, agent, session id)."""
    from websockets.asyncio.client import connect

    ws_base = base.replace("http://", "ws://")
    visitor = await connect(f"{ws_base}/ws/chat/{desk['key']}/", additional_headers={"Origin": base})
    agent = await connect(f"{ws_base}/ws/console/chat/",
                          additional_headers={"Origin": base, "Cookie": f"sessionid={desk['cookie']}"})
    await frame_until(agent, lambda f: f["type"] == "list")
    await visitor.send(json.dumps({"action": "hello"}))
    visitor.token = (await frame_until(visitor, lambda f: f["type"] == "hello"))["token"]  # as the page keeps it
    await visitor.send(json.dumps({"action": "start", "question": "zzqx nothing to suggest", "name": "Ana",
                                   "email": email}))
    await frame_until(visitor, lambda f: f["type"] == "state" and f["status"] == "queued")
    listing = await frame_until(agent, lambda f: f["type"] == "list" and f["waiting"])
    session_id = listing["waiting"][0]["id"]
    await agent.send(json.dumps({"action": "accept", "session_id": session_id}))
    await frame_until(agent, lambda f: f["type"] == "done" and f["action"] == "accept")
    await agent.send(json.dumps({"action": "open", "session_id": session_id}))
    await frame_until(agent, lambda f: f["type"] == "conversation")
    return visitor, agent, session_id


def test_a_reply_the_worker_relays_reaches_the_widget_and_the_worker_sees_the_visitor_connected(tmp_path):
    with demo_server(tmp_path, serve=True) as (base, database):
        desk = json.loads(run_on_desk(database, SETUP))

        async def scenario():
            visitor, agent, session_id = await conversation(base, desk, email="ana@example.test")
            # Written in another process (as the console's ticket page would): the chat subscriber, in the
            # worker beside the web process, pushes it to the widget through the web process.
            await asyncio.to_thread(run_on_desk, database, REPLY_ELSEWHERE, session_id, desk["agent"])
            frame = await frame_until(visitor, lambda f: f["type"] == "message" and f["message"]["from"] == "agent")
            assert frame["message"]["text"] == "Answered from the ticket page"
            await visitor.close()
            await agent.close()

        asyncio.run(scenario())
        # The worker saw the visitor in the widget (presence is shared): pushed, not turned into an email.
        assert query(database, "SELECT channel FROM tickets_message WHERE body_text = ?",
                     "Answered from the ticket page") == [("chat",)]


def test_without_a_worker_messages_go_both_ways_from_the_web_process(tmp_path):
    # uvicorn alone with the served settings (events wait for a worker; none runs anywhere)
    with demo_server(tmp_path, extra_env={"DJANGO_SETTINGS_MODULE": "atende.config.settings.dev", "DEBUG": "0"}) \
            as (base, database):
        desk = json.loads(run_on_desk(database, SETUP))

        async def scenario():
            visitor, agent, session_id = await conversation(base, desk)
            await visitor.send(json.dumps({"action": "message", "text": "Is it shipped?", "cid": "c1"}))
            event = await frame_until(agent, lambda f: f["type"] == "event" and f["event"].get("type") == "message")
            assert (event["session_id"], event["event"]["message"]["text"]) == (session_id, "Is it shipped?")
            await agent.send(json.dumps({"action": "reply", "session_id": session_id, "text": "Yes, today.",
                                         "cid": "a1"}))
            reply = await frame_until(visitor, lambda f: f["type"] == "message" and f["message"]["from"] == "agent")
            assert reply["message"]["text"] == "Yes, today."
            await visitor.close()
            await agent.close()
            return session_id

        session_id = asyncio.run(scenario())
        # Stored before pushed, and no subscriber has seen the events yet (nothing ran them).
        ticket = query(database, "SELECT ticket_id FROM chat_chatsession WHERE id = ?", session_id)[0][0]
        texts = [row[0] for row in query(database, "SELECT body_text FROM tickets_message WHERE ticket_id = ? "
                                                   "ORDER BY id", ticket)]
        assert texts[-2:] == ["Is it shipped?", "Yes, today."]
        assert query(database, "SELECT COUNT(*) FROM core_subscribercursor WHERE position >= "
                               "(SELECT MAX(id) FROM tickets_ticketevent)") == [(0,)]


# Several web processes on one address (``atende serve --web-processes 2``, Redis) --------------------------------

def _web_process_of(server_port: int, client_port: int) -> int:
    """The process holding the server's end of the loopback connection from ``client_port``."""
    inodes = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(name).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = (int(address.rsplit(":", 1)[1], 16) for address in fields[1:3])
            if (local, remote) == (server_port, client_port):
                inodes.add(fields[9])
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                links = {str(fd.readlink()) for fd in (entry / "fd").iterdir()}
            except OSError:
                continue
            if any(f"socket:[{inode}]" in links for inode in inodes):
                return int(entry.name)
    raise AssertionError(f"no process holds the connection from port {client_port}")


def test_two_web_processes_carry_each_others_messages_and_share_resend_keys_and_rate_limits(tmp_path):
    from atende.core.testing.redis import redis_url_or_skip, unique_prefix

    env = {"REDIS_URL": redis_url_or_skip(), "REDIS_PREFIX": unique_prefix("chat-served"),
           "THROTTLE_CHAT_MESSAGE_VISITOR": "5/min"}
    with demo_server(tmp_path, serve=True, serve_args=["--web-processes", "2"], extra_env=env) as (base, database):
        desk = json.loads(run_on_desk(database, SETUP))
        port = int(base.rsplit(":", 1)[1])

        async def elsewhere(holder: int, token: str):
            """A visitor's connection (back in the conversation ``token`` names) that landed in another web
            process than ``holder``."""
            from websockets.asyncio.client import connect

            for _attempt in range(40):
                ws = await connect(f"{base.replace('http://', 'ws://')}/ws/chat/{desk['key']}/",
                                   additional_headers={"Origin": base})
                if await asyncio.to_thread(_web_process_of, port, ws.local_address[1]) != holder:
                    await ws.send(json.dumps({"action": "hello", "token": token}))
                    await frame_until(ws, lambda f: f["type"] == "hello")
                    return ws
                await ws.close()
            raise AssertionError("every connection landed in the same web process")

        async def scenario():
            visitor, agent, session_id = await conversation(base, desk)
            agent_process = await asyncio.to_thread(_web_process_of, port, agent.local_address[1])
            other = await elsewhere(agent_process, visitor.token)
            await visitor.close()
            # Messages written in the other process reach the agent, in order; so does the agent's reply back.
            for n in range(3):
                await other.send(json.dumps({"action": "message", "text": f"Part {n}", "cid": f"c{n}"}))
            texts = []
            while len(texts) < 3:
                event = await frame_until(agent, lambda f: f["type"] == "event"
                                          and f["event"].get("type") == "message")
                texts.append(event["event"]["message"]["text"])
            assert texts == ["Part 0", "Part 1", "Part 2"]
            await agent.send(json.dumps({"action": "reply", "session_id": session_id, "text": "Got it", "cid": "a1"}))
            reply = await frame_until(other, lambda f: f["type"] == "message" and f["message"]["from"] == "agent")
            assert reply["message"]["text"] == "Got it"
            # A resend of "Part 2" (same id) is stored once. The limit (5 a minute, the resend counted) holds
            # across the processes: "Part 3" is the fifth, "Part 4" is refused.
            await other.send(json.dumps({"action": "message", "text": "Part 2", "cid": "c2"}))
            await frame_until(other, lambda f: f["type"] == "ack" and f["cid"] == "c2")
            await other.send(json.dumps({"action": "message", "text": "Part 3", "cid": "c3"}))
            await frame_until(other, lambda f: f["type"] == "ack" and f["cid"] == "c3")
            await other.send(json.dumps({"action": "message", "text": "Part 4", "cid": "c4"}))
            refused = await frame_until(other, lambda f: f["type"] in ("ack", "error"))
            assert (refused["type"], refused.get("code")) == ("error", "throttled")
            await other.close()
            await agent.close()
            return session_id, agent_process

        session_id, agent_process = asyncio.run(scenario())
        ticket = query(database, "SELECT ticket_id FROM chat_chatsession WHERE id = ?", session_id)[0][0]
        texts = [row[0] for row in query(database, "SELECT body_text FROM tickets_message WHERE ticket_id = ? "
                                                   "AND body_text LIKE 'Part %' ORDER BY id", ticket)]
        assert texts == ["Part 0", "Part 1", "Part 2", "Part 3"]


def test_several_web_processes_need_redis(tmp_path):
    env = server_env(tmp_path / "none.sqlite3") | {"DJANGO_SETTINGS_MODULE": "atende.config.settings.dev",
                                                   "DEBUG": "0"}
    done = subprocess.run([sys.executable, "-m", "atende", "serve", "--port", "1", "--web-processes", "2"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "Several web processes need REDIS_URL" in done.stderr
