"""Ticket creation, three ways: the service in-process, the REST API over HTTP with concurrent clients, and
``atende mail-import`` of generated messages. Sustained tickets per second and per-ticket latency."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import httpx

from harness.common import Config, Skip, atende, log, summary

SUBJECTS = ["Cannot log in after the update", "Invoice shows the wrong amount", "Export to Excel fails",
            "Não consigo acessar o painel", "Cobrança duplicada no cartão", "App fecha ao abrir relatório"]
BODY = ("Hello, since this morning the export button does nothing. I tried another browser and cleared the "
        "cache. Our team needs the report today, can you help? Order number {n}.")


def _text(rng: random.Random) -> tuple[str, str]:
    return rng.choice(SUBJECTS), BODY.format(n=rng.randint(1_000_000, 9_999_999))


def service(cfg: Config, out: dict) -> None:
    """``tickets.services.ticket_create`` called in this process, one after another (events published on commit,
    tasks queued for the worker, as in production). One ticket created first is not timed: it pays what a
    process pays once (the first push imports the channel layer's Redis client and connects, about as long as
    hundreds of tickets on a loaded machine), which a desk that has been running has paid long before a peak."""
    from django.db import close_old_connections

    from atende.accounts.models import User
    from atende.core.actor import Actor
    from atende.tickets.services import ticket_create

    customers = list(User.objects.filter(role="customer").order_by("id")[:500])
    rng = random.Random(11)
    subject, body = _text(random.Random(10))
    ticket_create(actor=Actor.for_user(customers[-1]), requester=customers[-1], subject=subject, body_text=body,
                  channel="web")
    lat = []
    started = time.perf_counter()
    for i in range(cfg.creations):
        customer = customers[i % len(customers)]
        subject, body = _text(rng)
        t0 = time.perf_counter()
        ticket_create(actor=Actor.for_user(customer), requester=customer, subject=subject, body_text=body,
                      channel="web")
        lat.append((time.perf_counter() - t0) * 1000)
    wall = time.perf_counter() - started
    close_old_connections()
    result = {"tickets": len(lat), "seconds": round(wall, 2), "tickets_per_second": round(len(lat) / wall, 1),
              "latency_ms": summary(lat), "clients": 1}
    _log("service (in-process)", result)
    out["create: service (in-process)"] = result


def end_to_end(cfg: Config, out: dict, *, drained: Callable[[], bool], limit: float) -> None:
    """Tickets created in-process one after another while the worker process runs, then the wait until every
    events subscriber has handled every event and no background task is left: tickets per second from the first
    creation to the last subscriber done (``atende events status`` lag zero)."""
    from django.db import close_old_connections

    from atende.accounts.models import User
    from atende.core.actor import Actor
    from atende.tickets.services import ticket_create

    customers = list(User.objects.filter(role="customer").order_by("-id")[:500])
    rng = random.Random(23)
    started = time.perf_counter()
    for i in range(cfg.creations):
        customer = customers[i % len(customers)]
        subject, body = _text(rng)
        ticket_create(actor=Actor.for_user(customer), requester=customer, subject=subject, body_text=body,
                      channel="web")
    created = time.perf_counter() - started
    close_old_connections()
    while not drained():
        if time.perf_counter() - started > limit:
            raise RuntimeError(f"not drained after {limit:.0f} s")
        time.sleep(0.1)
        close_old_connections()
    wall = time.perf_counter() - started
    result = {"tickets": cfg.creations, "seconds": round(wall, 2), "tickets_per_second": round(cfg.creations / wall, 1),
              "created_seconds": round(created, 2), "drained_after_last_create_seconds": round(wall - created, 2),
              "latency_ms": {}, "clients": 1,
              "note": "created in-process while the worker process runs; done = every subscriber's lag zero and "
                      "no task READY or RUNNING"}
    log(f"  end to end: {cfg.creations} tickets created in {created:.1f} s, every subscriber done after "
        f"{wall:.1f} s = {result['tickets_per_second']}/s")
    out["end to end: created and every subscriber done"] = result


async def _api_clients(cfg: Config, token: str, count: int) -> tuple[list[float], dict[int, int], float]:
    rng = random.Random(13)
    jobs = asyncio.Queue()
    for i in range(count):
        subject, body = _text(rng)
        jobs.put_nowait({"subject": subject, "body": body, "requester_email": f"api{i % 300}@bench-api.example",
                         "requester_name": f"API Customer {i % 300}"})
    lat: list[float] = []
    codes: dict[int, int] = {}
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=cfg.concurrency, max_keepalive_connections=cfg.concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        while True:
            try:
                payload = jobs.get_nowait()
            except asyncio.QueueEmpty:
                return
            t0 = time.perf_counter()
            resp = await client.post("/api/v1/tickets", json=payload, headers=headers)
            elapsed = (time.perf_counter() - t0) * 1000
            codes[resp.status_code] = codes.get(resp.status_code, 0) + 1
            if resp.status_code == 201:
                lat.append(elapsed)

    async with httpx.AsyncClient(base_url=cfg.base_url, timeout=120, limits=limits) as client:
        probe = await client.post("/api/v1/tickets", json={"subject": "probe", "body": "probe",
                                                           "requester_email": "probe@bench-api.example"},
                                  headers=headers)
        if probe.status_code in (404, 405):
            raise Skip(f"POST /api/v1/tickets answers {probe.status_code} (not built yet)")
        if probe.status_code != 201:
            raise RuntimeError(f"POST /api/v1/tickets answered {probe.status_code}: {probe.text[:300]}")
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(cfg.concurrency)))
        wall = time.perf_counter() - started
    return lat, codes, wall


def api(cfg: Config, out: dict, token: str) -> None:
    lat, codes, wall = asyncio.run(_api_clients(cfg, token, cfg.creations))
    result = {"tickets": len(lat), "seconds": round(wall, 2), "tickets_per_second": round(len(lat) / wall, 1),
              "latency_ms": summary(lat), "clients": cfg.concurrency, "status_codes": codes}
    _log(f"REST API ({cfg.concurrency} clients)", result)
    out[f"create: REST API, {cfg.concurrency} concurrent clients"] = result


def _eml(i: int, rng: random.Random) -> bytes:
    subject, body = _text(rng)
    msg = EmailMessage()
    msg["From"] = f"Mail Customer {i} <mail{i}@bench-mail.example>"
    msg["To"] = "support@atende.test"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(time_now())
    msg["Message-ID"] = make_msgid(idstring=f"bench{i}", domain="bench-mail.example")
    msg.set_content(body)
    return bytes(msg)


def time_now():
    import datetime

    return datetime.datetime.now(datetime.UTC)


def mail_import(cfg: Config, out: dict) -> None:
    """``atende mail-import`` of generated messages (one process, one after another, as an operator would run
    it); per-message latency is the time from storing the raw message to the end of its processing."""
    from atende.email_channel.models import InboundMessage

    rng = random.Random(17)
    stamp = int(time.time())
    with tempfile.TemporaryDirectory(prefix="bench-mail-") as tmp:
        files = []
        for i in range(cfg.mail_messages):
            path = Path(tmp) / f"{i:05d}.eml"
            path.write_bytes(_eml(stamp * 10_000 + i, rng))
            files.append(str(path))
        since = time_now()
        t0 = time.perf_counter()
        proc = atende(cfg, "mail-import", *files, timeout=3600)
        wall = time.perf_counter() - t0
    rows = list(InboundMessage.objects.filter(received_at__gte=since, processed_at__isnull=False)
                .values_list("received_at", "processed_at", "status"))
    created = sum(1 for *_x, status in rows if status == "ticket_created")
    lat = [(done - got).total_seconds() * 1000 for got, done, _s in rows]
    busy = (max(r[1] for r in rows) - min(r[0] for r in rows)).total_seconds() if rows else 0
    result = {"messages": cfg.mail_messages, "tickets": created, "seconds": round(busy, 2),
              "tickets_per_second": round(created / busy, 1) if busy else None, "latency_ms": summary(lat),
              "clients": 1, "summary": proc.stdout.decode().strip()[-300:], "process_wall_seconds": round(wall, 2),
              "note": "rate over the import itself (first message stored to last processed); the command's "
                      "wall time adds one process start"}
    _log("mail-import", result)
    out["create: atende mail-import"] = result


def _log(label: str, result: dict) -> None:
    s = result["latency_ms"]
    log(f"  create via {label:<28} {result['tickets']:5d} tickets in {result['seconds']:6.1f} s = "
        f"{result['tickets_per_second']:7.1f}/s  p50 {s.get('p50')} p95 {s.get('p95')} p99 {s.get('p99')} ms")
