"""Websockets: N agents connected to ``/ws/console/``; a ticket changes (a note through the service, in this
process, delivered across processes by the Redis channel layer); how long until every agent has heard of it.

The agents are spread over ``BENCH_WS_PROCS`` client processes (default 4): one Python process reading 1,000
sockets decodes their frames one after another, and that queue, not the server, would set the late percentiles.
Times are ``time.perf_counter()`` (CLOCK_MONOTONIC on Linux), which every process on the machine shares."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time

from harness.common import Config, Skip, log, process_cpu_seconds, summary

UPDATES = 5
CONNECT_BATCH = 50
WAIT_SECONDS = 30


async def _connect(url: str, headers: dict, count: int):
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    clients = []
    for start in range(0, count, CONNECT_BATCH):
        batch = [connect(url, additional_headers=headers, open_timeout=60, max_queue=None, ping_interval=None)
                 for _ in range(min(CONNECT_BATCH, count - start))]
        try:
            clients += await asyncio.gather(*batch)
        except InvalidStatus as exc:
            if exc.response.status_code == 404:
                raise Skip("/ws/console/ answers 404 (not built yet)") from exc
            raise
    for ws in clients:  # every consumer greets first
        hello = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if hello.get("type") != "hello":
            raise RuntimeError(f"unexpected first websocket message: {hello}")
    return clients


async def _await_change(ws, ticket_id: int, deadline: float) -> float | None:
    from websockets.exceptions import ConnectionClosed
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            return None
        try:
            data = json.loads(await asyncio.wait_for(ws.recv(), left))
        except (TimeoutError, ConnectionClosed):
            return None
        if data.get("type") == "ticket.changed" and data.get("ticket_id") == ticket_id:
            return time.perf_counter()


async def _agents(conn, url: str, headers: dict, count: int) -> None:
    """One client process: connect ``count`` agents, then for each ticket the parent names, report when each
    agent heard of its change (None: not within the wait)."""
    clients = await _connect(url, headers, count)
    conn.send(("connected", len(clients)))
    loop = asyncio.get_running_loop()
    try:
        while True:
            order = await loop.run_in_executor(None, conn.recv)
            if order[0] == "stop":
                break
            _, ticket_id = order
            deadline = time.perf_counter() + WAIT_SECONDS
            waiters = [asyncio.ensure_future(_await_change(ws, ticket_id, deadline)) for ws in clients]
            await asyncio.sleep(0)  # every waiter is reading before the parent writes
            conn.send(("armed",))
            conn.send(("arrivals", await asyncio.gather(*waiters)))
        conn.send(("closed", sum(1 for ws in clients if ws.close_code is not None)))
    finally:
        await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)


def _agents_process(conn, url: str, headers: dict, count: int) -> None:
    try:
        asyncio.run(_agents(conn, url, headers, count))
    except BaseException as exc:  # the parent reports it rather than waiting forever
        conn.send(("error", repr(exc)))
        raise


def _cpu_ms(pid: int | None) -> float | None:
    seconds = None if pid is None else process_cpu_seconds(pid)
    return None if seconds is None else seconds * 1000


def _receive(conn, expected: str):
    reply = conn.recv()
    if reply[0] == "error":
        raise RuntimeError(f"websocket client process failed: {reply[1]}")
    if reply[0] != expected:
        raise RuntimeError(f"websocket client process answered {reply[0]!r}, expected {expected!r}")
    return reply[1:]


def _run(cfg: Config, session_cookie: str, agent_id: int, ticket_ids: list[int], web_pid: int | None) -> dict:
    from atende.accounts.models import User
    from atende.core.actor import Actor
    from atende.tickets.models import Ticket
    from atende.tickets.services import message_add_note

    url = cfg.base_url.replace("http://", "ws://") + "/ws/console/"
    headers = {"Cookie": f"sessionid={session_cookie}", "Origin": cfg.base_url}
    procs_wanted = max(1, min(cfg.ws_procs, cfg.ws_clients))
    shares = [cfg.ws_clients // procs_wanted + (1 if i < cfg.ws_clients % procs_wanted else 0)
              for i in range(procs_wanted)]
    ctx = multiprocessing.get_context("spawn")
    pipes, procs = [], []
    t0 = time.perf_counter()
    for share in shares:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_agents_process, args=(child, url, headers, share), daemon=True)
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    per_client, all_have, missed, writes, after_push, server_cpu = [], [], 0, [], [], []
    closed = 0
    try:
        connected = sum(_receive(conn, "connected")[0] for conn in pipes)
        connect_s = time.perf_counter() - t0
        log(f"  {connected} websocket clients connected in {connect_s:.1f} s from {len(procs)} client processes")
        agent = User.objects.get(pk=agent_id)
        for ticket_id in ticket_ids[:UPDATES]:
            ticket = Ticket.objects.get(pk=ticket_id)
            for conn in pipes:
                conn.send(("expect", ticket_id))
            for conn in pipes:
                _receive(conn, "armed")
            cpu_before = _cpu_ms(web_pid)
            started = time.perf_counter()
            message_add_note(ticket=ticket, actor=Actor.for_user(agent), body_text="Benchmark note: checking fan-out.")
            # The note is written, committed and handed to the channel layer: what follows is the fan-out.
            pushed = time.perf_counter()
            writes.append((pushed - started) * 1000)
            arrivals = [a for conn in pipes for a in _receive(conn, "arrivals")[0]]
            cpu_after = _cpu_ms(web_pid)
            if cpu_before is not None and cpu_after is not None:
                server_cpu.append(cpu_after - cpu_before)
            got = [(a - started) * 1000 for a in arrivals if a is not None]
            missed += len(arrivals) - len(got)
            per_client += got
            after_push += [(a - pushed) * 1000 for a in arrivals if a is not None]
            if got:
                all_have.append(max(got))
            time.sleep(0.5)
        for conn in pipes:
            conn.send(("stop",))
        closed = sum(_receive(conn, "closed")[0] for conn in pipes)
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    return {"clients": connected, "client_processes": len(procs), "updates": len(all_have),
            "connect_seconds": round(connect_s, 2), "closed_by_server_before_end": closed,
            "delivery_ms": summary(per_client), "until_every_client_ms": summary(all_have), "missed": missed,
            "write_and_push_ms": summary(writes), "after_push_ms": summary(after_push),
            "web_cpu_ms_per_update": summary(server_cpu)}


def fanout(cfg: Config, out: dict, session_cookie: str, agent_id: int, web_pid: int | None = None) -> None:
    from atende.tickets.models import Ticket

    ticket_ids = list(Ticket.objects.exclude(status="closed").order_by("-id").values_list("id", flat=True)[:UPDATES])
    result = _run(cfg, session_cookie, agent_id, ticket_ids, web_pid)
    d, a = result["delivery_ms"], result["until_every_client_ms"]
    w, p = result["write_and_push_ms"], result["after_push_ms"]
    log(f"  websocket fan-out to {result['clients']} agents ({result['client_processes']} client processes): "
        f"per client p50 {d.get('p50')} p99 {d.get('p99')} ms; until every client p50 {a.get('p50')} max "
        f"{a.get('max')} ms; missed {result['missed']}; of which writing the note and pushing p50 {w.get('p50')} "
        f"ms, after the push p50 {p.get('p50')} p99 {p.get('p99')} ms; web process CPU per update p50 "
        f"{result['web_cpu_ms_per_update'].get('p50')} ms")
    out[f"websocket: one update to {result['clients']} agents"] = result
