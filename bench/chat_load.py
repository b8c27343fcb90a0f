"""Live chat under load: V visitors on the widget's websocket, each in a conversation an agent accepted; every
visitor sends a message every PERIOD seconds and the agents answer each one. Reports delivery latency (visitor →
agent, and the agent's reply → visitor) p50/p99 and the server's peak memory.

    .venv/bin/python bench/chat_load.py --visitors 200 --agents 10 --period 10 --seconds 60

The desk is the demo help desk served as ``atende serve`` serves it on one machine (uvicorn, one process, the
task worker and scheduler inside it, in-memory channel layer, SQLite), started by
``atende.core.testing.server.demo_server``; the load generator runs on the same machine. Results in
docs/benchmarks.md ("Live chat").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


async def run(args, base: str, cookie: str, key: str) -> dict:
    from websockets.asyncio.client import connect

    ws_base = base.replace("http://", "ws://")
    sent_at: dict[str, float] = {}
    to_agent: list[float] = []
    to_visitor: list[float] = []
    sent_count = [0]

    async def visitor(index: int):
        ws = await connect(f"{ws_base}/ws/chat/{key}/", additional_headers={"Origin": base}, max_queue=None,
                           ping_interval=None, open_timeout=120)
        await ws.send(json.dumps({"action": "hello"}))
        while json.loads(await ws.recv())["type"] != "hello":
            pass
        await ws.send(json.dumps({"action": "start", "question": f"zzqx{index}", "name": f"Visitor {index}"}))
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "error":
                raise RuntimeError(frame)
            if frame["type"] == "state":
                break
        return ws

    async def visitor_reader(ws):
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] == "message" and frame["message"]["from"] == "agent":
                cid = frame["message"]["text"].rsplit(" ", 1)[-1]
                if cid in sent_at:
                    to_visitor.append((time.perf_counter() - sent_at.pop(cid)) * 1000)

    async def agent(index: int):
        ws = await connect(f"{ws_base}/ws/console/chat/", max_queue=None, ping_interval=None, open_timeout=120,
                           additional_headers={"Origin": base, "Cookie": f"sessionid={cookie}"})
        return ws

    async def agent_reader(ws, replying: bool):
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] == "event" and frame["event"].get("type") == "message":
                message = frame["event"]["message"]
                if message["from"] == "visitor" and message["cid"] in sent_at:
                    to_agent.append((time.perf_counter() - sent_at[message["cid"]]) * 1000)
                    if replying:
                        await ws.send(json.dumps({"action": "reply", "session_id": frame["session_id"],
                                                  "text": f"On it: {message['cid']}", "cid": "r" + message["cid"]}))

    started = time.perf_counter()
    visitors = []
    for start in range(0, args.visitors, 25):
        visitors += await asyncio.gather(*[visitor(i) for i in range(start, min(args.visitors, start + 25))])
    print(f"{len(visitors)} visitors in a conversation", file=sys.stderr, flush=True)
    agents = await asyncio.gather(*[agent(i) for i in range(args.agents)])
    connect_s = time.perf_counter() - started
    # One agent connection accepts every chat (the agent user has the capacity for it); each agent connection
    # then opens its share of the conversations and answers them.
    lister = agents[0]
    waiting: list[int] = []
    while len(waiting) < args.visitors:
        frame = json.loads(await lister.recv())
        if frame["type"] == "list":
            waiting = [row["id"] for row in frame["waiting"]] + [row["id"] for row in frame["mine"]]
            print(f"agent sees {len(waiting)} chats", file=sys.stderr, flush=True)
        if len(waiting) < args.visitors:
            await lister.send(json.dumps({"action": "list"}))
    for session_id in waiting:
        await lister.send(json.dumps({"action": "accept", "session_id": session_id}))
    for n, session_id in enumerate(waiting):
        await agents[n % len(agents)].send(json.dumps({"action": "open", "session_id": session_id}))
    await asyncio.sleep(5)  # accepts and opens settle
    readers = [asyncio.create_task(visitor_reader(ws)) for ws in visitors]
    readers += [asyncio.create_task(agent_reader(ws, True)) for ws in agents]

    async def talk(ws, index: int):
        await asyncio.sleep(random.random() * args.period)
        deadline = time.perf_counter() + args.seconds
        n = 0
        while time.perf_counter() < deadline:
            cid = f"v{index}m{n}"
            n += 1
            sent_count[0] += 1
            sent_at[cid] = time.perf_counter()
            await ws.send(json.dumps({"action": "message", "text": f"Message {n}", "cid": cid}))
            await asyncio.sleep(args.period)

    await asyncio.gather(*[talk(ws, i) for i, ws in enumerate(visitors)])
    await asyncio.sleep(10)  # let the last replies arrive
    for task in readers:
        task.cancel()
    for ws in [*visitors, *agents]:
        await ws.close()
    return {"connect_seconds": round(connect_s, 1), "messages_sent": sent_count[0], "reached_agent": len(to_agent),
            "replies_reached_visitor": len(to_visitor),
            "visitor_to_agent_ms": {"p50": round(pct(to_agent, 50), 1), "p99": round(pct(to_agent, 99), 1),
                                    "mean": round(statistics.fmean(to_agent), 1) if to_agent else None},
            "agent_reply_to_visitor_ms": {"p50": round(pct(to_visitor, 50), 1), "p99": round(pct(to_visitor, 99), 1)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--period", type=float, default=10.0, help="seconds between a visitor's messages")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    # No limits for the load generator: every visitor comes from 127.0.0.1.
    os.environ.update({"THROTTLE_CHAT_START_IP": "", "THROTTLE_CHAT_MESSAGE_VISITOR": "",
                       "THROTTLE_CHAT_MESSAGE_IP": "", "CHAT_DEFAULT_MAX_CHATS": "100000"})
    from atende.core.testing.server import demo_server, query, server_env

    var = Path(tempfile.mkdtemp(prefix="atende-chat-bench-"))
    with demo_server(var, tickets=20, embedded_worker=True) as (base, database):  # as `atende serve`
        os.environ.update(server_env(database))
        import django

        django.setup()
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore

        from atende.accounts.models import User

        admin = User.objects.get(email="admin@atende.test")
        query(database, "UPDATE accounts_user SET availability = 'online' WHERE id = ?", admin.pk)
        session = SessionStore()
        session[SESSION_KEY] = str(admin.pk)
        session[BACKEND_SESSION_KEY] = "atende.accounts.backends.EmailBackend"
        session[HASH_SESSION_KEY] = admin.get_session_auth_hash()
        session.create()
        key = query(database, "SELECT key FROM chat_widget ORDER BY id LIMIT 1")[0][0]
        result = asyncio.run(run(args, base, session.session_key, key))
        rss = Path(f"/proc/{_server_pid(var)}/status").read_text() if _server_pid(var) else ""
        peak = next((line.split()[1] for line in rss.splitlines() if line.startswith("VmHWM")), "?")
        result |= {"visitors": args.visitors, "agents": args.agents, "period_s": args.period,
                   "offered_messages_per_s": round(args.visitors / args.period, 1), "server_peak_rss_kib": peak}
        print(json.dumps(result, indent=2))


def _server_pid(var: Path) -> int | None:
    import subprocess

    out = subprocess.run(["pgrep", "-f", "uvicorn atende.config.asgi:application.*"], capture_output=True,
                         text=True).stdout.split()
    for pid in out:
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if str(var).encode() in environ:
            return int(pid)
    return None


if __name__ == "__main__":
    main()
