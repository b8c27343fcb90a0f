"""Live chat under load: V visitors on the widget's websocket, each in a conversation one of A agents accepted;
every visitor sends a message every PERIOD seconds (staggered) and the agent holding the conversation answers
each one. Reports delivery latency visitor → agent (the visitor's send to the agent's event) and agent → visitor
(the agent's reply sent to the visitor's event) p50/p99, the rate offered and achieved, and the server's memory.

    .venv/bin/python bench/chat_load.py                       # the issue's load: 1,000 visitors, 50 agents, 100 msg/s
    .venv/bin/python bench/chat_load.py --visitors 200 --agents 10 --period 10 --seconds 60
    BENCH_ONLY=chat make bench                                # the same run as a step of the benchmark

The desk is the demo help desk served as ``atende serve`` serves it on one machine (uvicorn as its child process,
the events worker and scheduler in the serve process, the one-machine channel layer, SQLite; ``--worker embedded``:
all in the uvicorn process, as ``--embedded-worker``), started by ``atende.core.testing.server.demo_server``; the
load generator (one asyncio process) runs on the same machine. The conversations are started and accepted through
the chat services before anyone connects (``--setup websocket``: each visitor starts one on the socket, slower).
Besides latency and memory it reports the CPU each server process used per message written while the visitors
talked, the figure a busy shared machine disturbs least, and the load generator's own CPU (it shares the cores).
Every visitor connects from an address of its own on the loopback network (127.1.x.y), so the per-visitor and
per-address rate limits stay at their defaults. Results in docs/benchmarks.md ("Live chat").
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.common import process_cpu_seconds  # noqa: E402  (bench/ is this script's own folder)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def visitor_address(index: int) -> str:
    """One loopback address per visitor (all of 127.0.0.0/8 reaches this host on Linux)."""
    return f"127.1.{index // 250}.{index % 250 + 1}"


def summary(values: list[float]) -> dict:
    return {"p50": round(pct(values, 50), 1), "p99": round(pct(values, 99), 1),
            "max": round(max(values), 1) if values else None,
            "mean": round(statistics.fmean(values), 1) if values else None,
            # the goal is a p99 under 200 ms: the share that made it, which a busy machine disturbs less
            "within_200ms": round(sum(v <= 200 for v in values) / len(values), 3) if values else None}


def raise_fd_limit(wanted: int) -> None:
    """Each connection is a socket on both ends; the server (a child process) inherits the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, wanted), hard))


async def run(args, base: str, key: str, agent_cookies: list[str], session_of, idle, server_pids: list[int],
              prepared: dict[int, tuple[str, int]] | None = None, prepare_s: float = 0.0) -> dict:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    ws_base = base.replace("http://", "ws://")
    sent_at: dict[str, float] = {}
    reply_at: dict[str, float] = {}
    to_agent: list[float] = []
    to_visitor: list[float] = []
    counts = {"sent": 0, "replies_sent": 0, "errors": 0, "closed": 0}
    waiters: dict[tuple[str, int | None], asyncio.Future] = {}
    window = {"start": 0.0, "end": 0.0}
    reached_in_window = [0]

    async def visitor(index: int):
        for attempt in range(5):
            try:
                ws = await connect(f"{ws_base}/ws/chat/{key}/", additional_headers={"Origin": base}, max_queue=None,
                                   ping_interval=None, open_timeout=300, close_timeout=2,
                                   local_addr=(visitor_address(index), 0))
                break
            except OSError:
                if attempt == 4:
                    raise
                await asyncio.sleep(1 + attempt)
        if prepared is not None:  # the conversation exists: come back to it with the visitor's token
            await ws.send(json.dumps({"action": "hello", "token": prepared[index][0]}))
            while json.loads(await ws.recv())["type"] != "hello":
                pass
            return ws
        await ws.send(json.dumps({"action": "hello"}))
        while json.loads(await ws.recv())["type"] != "hello":
            pass
        await ws.send(json.dumps({"action": "start", "question": f"zzqx{index}", "name": f"Visitor {index}"}))
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "error":
                raise RuntimeError(frame)
            if frame["type"] == "state":
                return ws

    async def visitor_reader(ws):
        try:
            await _visitor_frames(ws)
        except ConnectionClosed:
            counts["closed"] += 1

    async def _visitor_frames(ws):
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] == "message" and frame["message"]["from"] == "agent":
                cid = frame["message"]["cid"]
                if cid in reply_at:
                    to_visitor.append((time.perf_counter() - reply_at.pop(cid)) * 1000)
            elif frame["type"] == "error":
                counts["errors"] += 1

    async def agent_reader(ws):
        try:
            await _agent_frames(ws)
        except ConnectionClosed:
            counts["closed"] += 1

    async def _agent_frames(ws):
        async for raw in ws:
            frame = json.loads(raw)
            waiter = waiters.pop((frame["type"], frame.get("session_id")), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(frame)
            if frame["type"] == "event" and frame["event"].get("type") == "message":
                message = frame["event"]["message"]
                if message["from"] == "visitor" and message["cid"] in sent_at:
                    now = time.perf_counter()
                    to_agent.append((now - sent_at.pop(message["cid"])) * 1000)
                    if window["start"] <= now <= window["end"]:
                        reached_in_window[0] += 1
                    cid = "r" + message["cid"]
                    reply_at[cid] = time.perf_counter()
                    counts["replies_sent"] += 1
                    await ws.send(json.dumps({"action": "reply", "session_id": frame["session_id"],
                                              "text": f"On it: {message['cid']}", "cid": cid}))  # closed: see reader
            elif frame["type"] == "error":
                counts["errors"] += 1
                waiter = waiters.pop(("done", frame.get("session_id")), None) or waiters.pop(
                    ("conversation", frame.get("session_id")), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(frame)

    started = time.perf_counter()
    agents = await asyncio.gather(*[
        connect(f"{ws_base}/ws/console/chat/", max_queue=None, ping_interval=None, open_timeout=300, close_timeout=2,
                additional_headers={"Origin": base, "Cookie": f"sessionid={cookie}"}) for cookie in agent_cookies])
    readers = [asyncio.create_task(agent_reader(ws)) for ws in agents]

    async def call(ws, action: str, answer: str, session_id: int | None = None) -> dict:
        waiter = waiters[(answer, session_id)] = asyncio.get_running_loop().create_future()
        await ws.send(json.dumps({"action": action, "session_id": session_id}))
        frame = await asyncio.wait_for(waiter, 300)
        if frame["type"] == "error":
            raise RuntimeError(frame)
        return frame

    async def take(n: int, ws, index: int):
        """Agent n accepts and opens the conversation of visitor ``index`` (every A-th one is theirs)."""
        await call(ws, "accept", "done", sessions[index])
        await call(ws, "open", "conversation", sessions[index])

    # Visitors arrive in groups and are taken at once, as on a staffed desk (the queue stays short: a queue of
    # 1,000 waiting visitors re-reading their place on every change is another benchmark).
    visitors: list = []
    sessions: dict[int, int] = {}
    step = 50
    if prepared is not None:
        # The conversations were started and accepted through the chat services (``prepare``); the visitors come
        # back to them and each agent opens theirs.
        sessions = {index: session_id for index, (_, session_id) in prepared.items()}

        async def open_all(n: int, ws):
            for index in range(n, args.visitors, len(agents)):
                await call(ws, "open", "conversation", sessions[index])

        for start in range(0, args.visitors, step * 4):
            visitors += await asyncio.gather(*[visitor(i) for i in range(start, min(args.visitors, start + step * 4))])
        await asyncio.gather(*[open_all(n, ws) for n, ws in enumerate(agents)])
    for start in range(0, args.visitors if prepared is None else 0, step):
        batch = range(start, min(args.visitors, start + step))
        visitors += await asyncio.gather(*[visitor(i) for i in batch])
        sessions = session_of()
        await asyncio.gather(*[take(i % len(agents), agents[i % len(agents)], i) for i in batch])
        print(f"\r{len(visitors)} visitors in a conversation", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    # The talking starts on an idle server: the tickets the chats opened have gone through the events worker,
    # and an agent's list comes back at once, three times in a row.
    quick = 0
    while quick < 3:
        await asyncio.sleep(1)
        t0 = time.perf_counter()
        await call(agents[0], "list", "list")
        quick = quick + 1 if time.perf_counter() - t0 < 0.05 and await asyncio.to_thread(idle) else 0
    connect_s = time.perf_counter() - started + prepare_s
    print(f"{len(agents)} agents hold the {len(visitors)} conversations ({connect_s:.0f} s)", file=sys.stderr, flush=True)
    readers += [asyncio.create_task(visitor_reader(ws)) for ws in visitors]
    # The load generator's own full collections (its 2,000 connections' objects) paused its event loop for
    # 120–460 ms and counted as the server's latency: what the setup made is left out of later collections.
    gc.collect()
    gc.freeze()

    load_before = os.getloadavg()
    cpu_before = {pid: (process_cpu_seconds(pid) or 0.0) for pid in server_pids}
    own_cpu_before = time.process_time()
    window["start"] = time.perf_counter() + args.period  # every visitor has started talking
    window["end"] = time.perf_counter() + args.seconds
    rss_samples: list[int] = []

    async def talk(ws, index: int):
        await asyncio.sleep(index * args.period / len(visitors) + random.random() * 0.01)  # staggered
        n = 0
        next_at = time.perf_counter()
        while time.perf_counter() < window["end"]:
            cid = f"v{index}m{n}"
            n += 1
            counts["sent"] += 1
            sent_at[cid] = time.perf_counter()
            try:
                await ws.send(json.dumps({"action": "message", "text": f"Message {n}", "cid": cid}))
            except ConnectionClosed:
                return  # counted by its reader
            next_at += args.period
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

    async def sample_rss():
        while time.perf_counter() < window["end"] + args.drain:
            rss_samples.append(sum(_rss_kib(pid, "VmRSS") for pid in server_pids))
            await asyncio.sleep(2)

    sampler = asyncio.create_task(sample_rss())
    await asyncio.gather(*[talk(ws, i) for i, ws in enumerate(visitors)])
    load_during = os.getloadavg()
    cpu_load = {pid: (process_cpu_seconds(pid) or 0.0) - cpu_before[pid] for pid in server_pids}
    own_cpu = time.process_time() - own_cpu_before
    talk_s = time.perf_counter() - window["start"] + args.period
    deadline = time.perf_counter() + args.drain  # the last replies arrive (or the backlog shows)
    while (sent_at or reply_at) and time.perf_counter() < deadline:
        await asyncio.sleep(0.5)
    sampler.cancel()
    for task in readers:
        task.cancel()
    await asyncio.gather(*[ws.close() for ws in [*visitors, *agents]], return_exceptions=True)
    in_window = window["end"] - window["start"]
    return {"visitors": len(visitors), "agents": len(agents), "period_s": args.period, "seconds": args.seconds,
            "setup": args.setup, "worker": args.worker, "setup_seconds": round(connect_s, 1), "messages_sent": counts["sent"],
            "offered_messages_per_s": round(len(visitors) / args.period, 1),
            "achieved_messages_per_s": round(reached_in_window[0] / in_window, 1) if in_window > 0 else None,
            "reached_agent": len(to_agent), "lost_or_late_to_agent": len(sent_at),
            "replies_sent": counts["replies_sent"], "replies_reached_visitor": len(to_visitor),
            "lost_or_late_to_visitor": len(reply_at), "error_frames": counts["errors"],
            "connections_closed_during_load": counts["closed"],
            "visitor_to_agent_ms": summary(to_agent), "agent_to_visitor_ms": summary(to_visitor),
            "server_rss_mib": {"start": _mib(rss_samples[0] if rss_samples else None),
                               "max_sampled": _mib(max(rss_samples) if rss_samples else None),
                               "peak_vmhwm": _mib(sum(_rss_kib(pid, "VmHWM") for pid in server_pids)),
                               "processes": len(server_pids)},
            # CPU the server's processes used while the visitors talked, per message written (a visitor's message
            # and the agent's reply are two): the figure the machine's other load disturbs least.
            "server_cpu_ms_per_message": {_role(pid): round(1000 * used / max(1, counts["sent"] + counts["replies_sent"]), 2)
                                          for pid, used in cpu_load.items()},
            # The load generator shares the machine's cores: its own CPU while the visitors talked.
            "load_generator_cpu": {"ms_per_message": round(1000 * own_cpu / max(1, counts["sent"] + counts["replies_sent"]), 2),
                                   "share_of_a_core": round(own_cpu / talk_s, 2) if talk_s > 0 else None},
            "server_cpu_share_of_a_core": {_role(pid): round(used / talk_s, 2) for pid, used in cpu_load.items()}
            if talk_s > 0 else {},
            # with several web processes: their sum (uvicorn's own supervising process included)
            "web_cpu_ms_per_message_all_processes": round(1000 * sum(
                used for pid, used in cpu_load.items() if _role(pid).startswith("web"))
                / max(1, counts["sent"] + counts["replies_sent"]), 2),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_end_of_load": [round(x, 2) for x in load_during]}


def _rss_kib(pid: int | None, field: str) -> int:
    if pid is None:
        return 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _role(pid: int) -> str:
    """web (uvicorn), web.<pid> (one of its web processes), or worker (the ``atende serve`` process)."""
    cmdline = _cmdline(pid)
    if b"uvicorn" in cmdline:
        return "web"
    return f"web.{pid}" if b"multiprocessing" in cmdline else "worker" if cmdline else str(pid)


def _mib(kib: int | None) -> float | None:
    return round(kib / 1024, 1) if kib else None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--visitors", type=int, default=1000)
    p.add_argument("--agents", type=int, default=50)
    p.add_argument("--period", type=float, default=10.0, help="seconds between a visitor's messages")
    p.add_argument("--seconds", type=float, default=60.0, help="how long the visitors talk")
    p.add_argument("--drain", type=float, default=30.0, help="seconds to wait for the last deliveries")
    p.add_argument("--worker", choices=["beside", "embedded"], default="beside",
                   help="beside: as `atende serve` (the worker in a process of its own); embedded: inside the web "
                        "process (`atende serve --embedded-worker`)")
    p.add_argument("--setup", choices=["services", "websocket"], default="services",
                   help="services: the conversations are started and accepted through the chat services, then the "
                        "visitors and agents connect to them; websocket: each visitor starts one on the socket")
    p.add_argument("--port", type=int, default=0, help="the port the desk serves on (default: a free one)")
    p.add_argument("--web-processes", type=int, default=1,
                   help="`atende serve --web-processes N` (more than one needs --redis-url)")
    p.add_argument("--redis-url", default="", help="serve with REDIS_URL (the channel layer, presence and the "
                                                   "chat's rate limits in Redis); its database is emptied first")
    return p


def measure(args) -> dict:
    """Start the demo desk, set up the agents, run the load; the result as a dict."""
    raise_fd_limit(4 * (args.visitors + args.agents) + 1024)
    # Each agent holds its share of the conversations (the product's default is 3 at once).
    os.environ["CHAT_DEFAULT_MAX_CHATS"] = str(max(3, -(-args.visitors // args.agents)))
    from atende.core.testing.server import demo_server, query, server_env

    scratch = tempfile.TemporaryDirectory(prefix="atende-chat-bench-")  # removed at the end of the run
    var = Path(scratch.name)
    embedded = args.worker == "embedded"
    served = {"embedded_worker": True} if embedded else {"serve": True}
    redis_env = {"REDIS_URL": args.redis_url} if args.redis_url else {}
    if args.redis_url:
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()  # no groups or presence left by an earlier run
    if args.web_processes > 1:
        served["serve_args"] = ["--web-processes", str(args.web_processes)]
    with demo_server(var, tickets=20, port=args.port, extra_env=redis_env, **served) as (base, database):
        os.environ.update(server_env(database) | redis_env)
        import django

        django.setup()
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore

        from atende.accounts.choices import Availability, Role
        from atende.accounts.models import Team
        from atende.accounts.services import user_create
        from atende.chat.models import Widget

        widget = Widget.objects.select_related("team").order_by("id").first()
        team = widget.team or Team.objects.order_by("id").first()
        cookies, users = [], []
        for n in range(args.agents):
            user = user_create(email=f"chat-agent-{n}@bench.test", name=f"Agent {n}", role=Role.AGENT,
                               password=None, availability=Availability.ONLINE)
            team.members.add(user)
            users.append(user)
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "atende.accounts.backends.EmailBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            cookies.append(session.session_key)

        def session_of() -> dict[int, int]:
            rows = query(database, "SELECT id, name FROM chat_chatsession WHERE widget_id = ?", widget.pk)
            return {int(name.split()[-1]): pk for pk, name in rows if name.startswith("Visitor ")}

        def idle() -> bool:
            """No event waits for a subscriber and no task is queued (as bench/run.py's drained check)."""
            from django_tasks_db.models import DBTaskResult

            from atende.core.outbox.status import max_lag_seconds

            return not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists() and max_lag_seconds() == 0

        prepared, prepare_s = None, 0.0
        if args.setup == "services":
            t0 = time.perf_counter()
            prepared = prepare(args.visitors, widget, users)
            prepare_s = time.perf_counter() - t0
            print(f"{len(prepared)} conversations started and accepted ({prepare_s:.0f} s)", file=sys.stderr)
        pids = _server_pids(var)
        result = asyncio.run(run(args, base, widget.key, cookies, session_of, idle, pids, prepared, prepare_s))
        result["command"] = "bench/chat_load.py " + " ".join(
            f"--{k} {v:g}" for k, v in vars(args).items() if isinstance(v, (int, float)))
        return result


def prepare(count: int, widget, agents) -> dict[int, tuple[str, int]]:
    """Start ``count`` conversations through the chat services (the pre-chat form's question, no article to
    suggest, so each goes to the queue as a ticket) and have agent ``index % A`` accept visitor ``index``'s:
    {visitor index: (visitor token, conversation id)}. Loaded as history is (``events_suppressed``: the events
    the set-up writes are backfill, which the subscribers pass over), so the talking starts without a backlog of
    a thousand ticket creations; the messages during the run are events like any."""
    from atende.chat.services import chat_accept, chat_start
    from atende.chat.tokens import visitor_id_new, visitor_token_make
    from atende.core.events import events_suppressed

    prepared = {}
    with events_suppressed():
        for index in range(count):
            visitor_id = visitor_id_new()
            session = chat_start(widget=widget, visitor_id=visitor_id, question=f"zzqx{index}",
                                 name=f"Visitor {index}", client_ip=visitor_address(index))
            chat_accept(session=session, agent=agents[index % len(agents)])
            prepared[index] = (visitor_token_make(widget_key=widget.key, visitor_id=visitor_id), session.pk)
            if index % 100 == 99:
                print(f"\r{index + 1} conversations", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return prepared


def _server_pids(var: Path) -> list[int]:
    """The processes serving the desk in ``var`` (their environment names that directory): uvicorn (and the web
    processes it starts with ``--workers``), and the ``atende serve`` process that runs the worker beside it."""
    found, parents = [], {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            status = (entry / "status").read_text()
            parents[int(entry.name)] = int(status.split("PPid:", 1)[1].split()[0])
            if (b"uvicorn" in cmdline or b"serve" in cmdline) and str(var).encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    # uvicorn's web processes (``--workers``) are its children; its multiprocessing helper is left out
    children = [pid for pid, parent in parents.items() if parent in found and pid not in found
                and b"resource_tracker" not in _cmdline(pid)]
    return found + children


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: stop the server it started
    print(json.dumps(measure(parser().parse_args()), indent=2))


if __name__ == "__main__":
    main()
