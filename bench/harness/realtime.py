"""Websockets: N agents connected to ``/ws/console/``; a ticket changes (a note through the service, in this
process, delivered across processes by the Redis channel layer); how long until every agent has heard of it."""

from __future__ import annotations

import asyncio
import json
import time

from harness.common import Config, Skip, log, summary

UPDATES = 5
CONNECT_BATCH = 50


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
                raise Skip("/ws/console/ answers 404 (not built yet)")
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


async def _run(cfg: Config, session_cookie: str, agent_id: int, ticket_ids: list[int]) -> dict:
    from asgiref.sync import sync_to_async

    from atende.accounts.models import User
    from atende.core.actor import Actor
    from atende.tickets.models import Ticket
    from atende.tickets.services import message_add_note

    url = cfg.base_url.replace("http://", "ws://") + "/ws/console/"
    headers = {"Cookie": f"sessionid={session_cookie}", "Origin": cfg.base_url}
    t0 = time.perf_counter()
    clients = await _connect(url, headers, cfg.ws_clients)
    connect_s = time.perf_counter() - t0
    log(f"  {len(clients)} websocket clients connected in {connect_s:.1f} s")

    def change(ticket_id: int) -> None:
        agent = User.objects.get(pk=agent_id)
        ticket = Ticket.objects.get(pk=ticket_id)
        message_add_note(ticket=ticket, actor=Actor.for_user(agent), body_text="Benchmark note: checking fan-out.")

    per_client, all_have, missed, writes, after_push = [], [], 0, [], []
    try:
        for ticket_id in ticket_ids[:UPDATES]:
            started = time.perf_counter()
            waiters = [asyncio.ensure_future(_await_change(ws, ticket_id, started + 30)) for ws in clients]
            await sync_to_async(change, thread_sensitive=True)(ticket_id)
            # The note is written, committed and handed to the channel layer: what follows is the fan-out.
            pushed = time.perf_counter()
            writes.append((pushed - started) * 1000)
            arrivals = await asyncio.gather(*waiters)
            got = [(a - started) * 1000 for a in arrivals if a is not None]
            missed += len(arrivals) - len(got)
            per_client += got
            after_push += [(a - pushed) * 1000 for a in arrivals if a is not None]
            if got:
                all_have.append(max(got))
            await asyncio.sleep(0.5)
        closed = sum(1 for ws in clients if ws.close_code is not None)
    finally:
        await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)
    return {"clients": len(clients), "updates": len(all_have), "connect_seconds": round(connect_s, 2),
            "closed_by_server_before_end": closed,
            "delivery_ms": summary(per_client), "until_every_client_ms": summary(all_have), "missed": missed,
            "write_and_push_ms": summary(writes), "after_push_ms": summary(after_push)}


def fanout(cfg: Config, out: dict, session_cookie: str, agent_id: int) -> None:
    from atende.tickets.models import Ticket

    ticket_ids = list(Ticket.objects.exclude(status="closed").order_by("-id").values_list("id", flat=True)[:UPDATES])
    result = asyncio.run(_run(cfg, session_cookie, agent_id, ticket_ids))
    d, a = result["delivery_ms"], result["until_every_client_ms"]
    w, p = result["write_and_push_ms"], result["after_push_ms"]
    log(f"  websocket fan-out to {result['clients']} agents: per client p50 {d.get('p50')} p99 {d.get('p99')} ms; "
        f"until every client p50 {a.get('p50')} max {a.get('max')} ms; missed {result['missed']}; "
        f"of which writing the note and pushing p50 {w.get('p50')} ms, after the push p50 {p.get('p50')} "
        f"p99 {p.get('p99')} ms")
    out[f"websocket: one update to {result['clients']} agents"] = result
