"""The events pipeline under load: how far behind each subscriber falls while tickets arrive over the REST API.

- ``peak``: a fixed offered load (BENCH_PEAK_RATE tickets/s, default 100, for BENCH_PEAK_SECONDS, default 60;
  open loop: request i is sent at i/rate whatever the earlier ones did) while the worker runs every subscriber.
  Each subscriber's lag (``atende.core.outbox.status``) is sampled every 0.5 s: p50/p99 during the run, then the
  time after the last response until every lag is zero.
- ``full``: the same clients as fast as they go (BENCH_CONCURRENCY closed-loop clients) for the same time; the lag
  may grow, and the rate at which it grows is reported (least-squares slope of the samples).
- ``workers``: PostgreSQL only. A backlog (BENCH_SCALE_TICKETS tickets created with no worker running, on top of
  whatever is left) worked on by one worker process, then topped up and worked on by two, each for
  BENCH_SCALE_SECONDS (60) once the processes are up: subscriber events handled per second, and the ratio.

The subscribers have real work: a few trigger rules (priority, tags, a mail to the requester), an SLA policy from
the demo data, and a webhook subscription to a receiver in this process on loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from harness.common import PYTHON, REPO, Config, Skip, log, percentile, summary
from harness.writes import _text

SAMPLE_SECONDS = 0.5
RULE_PREFIX = "Bench pipeline: "


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


class Receiver:
    """The webhook endpoint: counts deliveries per ticket."""

    def __init__(self):
        self.count = 0
        self.tickets: set[int] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # Connections kept open between calls, as a receiving web server does (HTTP/1.0 here made each call a
            # new connection and a new thread of this process).
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.count += 1
                try:
                    receiver.tickets.add(json.loads(body)["ticket"]["id"])
                except (ValueError, KeyError, TypeError):
                    pass
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/bench-hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def rules_and_webhook(receiver: Receiver) -> dict:
    """Three triggers an admin would plausibly have, and a webhook for every created ticket (to this run's
    receiver; a previous run's subscription is removed). Idempotent."""
    from atende.accounts.models import User
    from atende.automation.models import Trigger
    from atende.automation.services.definitions import rule_save
    from atende.core.actor import Actor
    from atende.integrations.models import WebhookSubscription
    from atende.integrations.services.webhooks import webhook_subscription_create

    admin = User.objects.filter(role="admin", is_active=True).order_by("id").first()
    if admin is None:
        raise Skip("no admin user to set the rules up with")
    rules = [
        ("Outage is urgent", {"any": [{"field": "subject", "op": "contains_any_words",
                                       "value": "fails broken down outage acessar"}]},
         [{"type": "set_priority", "value": "high"}, {"type": "add_tags", "value": ["incident"]}]),
        ("Billing tag", {"any": [{"field": "subject", "op": "contains_any_words",
                                  "value": "invoice amount cobrança"}]},
         [{"type": "add_tags", "value": ["billing"]}]),
        ("Acknowledge", {}, [{"type": "send_email", "to": "requester", "subject": "We got it: {{ ticket.number }}",
                              "body": "Thanks, we are on it."}]),
    ]
    for name, conditions, actions in rules:
        if not Trigger.objects.filter(name=RULE_PREFIX + name).exists():
            rule_save(kind="trigger", user=admin, name=RULE_PREFIX + name, events=["created"],
                      conditions=conditions, actions=actions)
    WebhookSubscription.objects.filter(name__startswith=RULE_PREFIX).delete()
    webhook_subscription_create(actor=Actor.for_user(admin), name=RULE_PREFIX + "receiver", url=receiver.url,
                                event_types=["ticket.created"])
    return {"triggers": Trigger.objects.filter(is_active=True).count(),
            "webhooks": WebhookSubscription.objects.filter(is_active=True).count()}


class LagSampler:
    """Every 0.5 s, each subscriber's lag in events and seconds, in a thread of this process."""

    def __init__(self):
        self.samples: list[tuple[float, dict[str, tuple[int, float]]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> LagSampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        from django.db import connection

        from atende.core.outbox.status import subscriber_status

        try:
            while not self._stop.is_set():
                t = time.perf_counter()
                try:
                    rows = {s.name: (s.lag_events, s.lag_seconds) for s in subscriber_status()}
                except Exception:  # noqa: BLE001 - a busy database: skip this sample
                    rows = None
                if rows is not None:
                    self.samples.append((t, rows))
                self._stop.wait(max(0.0, SAMPLE_SECONDS - (time.perf_counter() - t)))
        finally:
            connection.close()

    def last(self) -> dict[str, tuple[int, float]]:
        return self.samples[-1][1] if self.samples else {}

    def zero(self) -> bool:
        last = self.last()
        return bool(last) and all(events == 0 for events, _s in last.values())

    def wait_zero(self, limit: float) -> float | None:
        """Seconds until a sample shows every lag zero, or None after ``limit``."""
        t0 = time.perf_counter()
        seen = len(self.samples)
        while time.perf_counter() - t0 < limit:
            if len(self.samples) > seen and self.zero():
                return round(self.samples[-1][0] - t0, 1)
            time.sleep(0.1)
        return None

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def window(self, t0: float, t1: float) -> dict[str, dict]:
        """Per subscriber: lag seconds and events p50/p99/max between t0 and t1, and the growth rates."""
        picked = [(t, rows) for t, rows in self.samples if t0 <= t <= t1]
        out = {}
        for name in (picked[0][1] if picked else {}):
            secs = [rows[name][1] for _t, rows in picked if name in rows]
            events = [rows[name][0] for _t, rows in picked if name in rows]
            times = [t - t0 for t, rows in picked if name in rows]
            out[name] = {"lag_seconds": {"p50": percentile(secs, 0.5), "p99": round(percentile(secs, 0.99), 1),
                                         "max": max(secs)},
                         "lag_events": {"p50": percentile(events, 0.5), "p99": round(percentile(events, 0.99)),
                                        "max": max(events)},
                         "growth_events_per_s": _slope(times, events),
                         "growth_seconds_per_s": _slope(times, secs)}
        return out


def _slope(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 3:
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return round(sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var, 2) if var else None


def _payload(rng: random.Random, i: int, tag: str) -> dict:
    subject, body = _text(rng)
    return {"subject": subject, "body": body, "requester_email": f"{tag}{i % 400}@bench-peak.example",
            "requester_name": f"Peak Customer {i % 400}"}


OPEN_LOOP_CLIENTS, OPEN_LOOP_CONNECTIONS = 8, 32


async def _open_loop(cfg: Config, token: str, rate: float, seconds: float) -> dict:
    """Request i is due at i/rate; its latency counts from then (a slow server cannot slow the offered load).

    Up to 256 requests are in flight, spread over 8 clients of 32 connections; a request due while its client's
    connections are all busy waits here (still timed from its due moment). One client holding thousands of
    queued requests cannot keep up: httpcore matches every queued request against every connection each time one
    starts or ends, so the load generator itself, not the server, set the pace (25 tickets/s sent in an earlier
    round while the server was idle most of the time)."""
    rng = random.Random(31)
    headers = {"Authorization": f"Bearer {token}"}
    total = int(rate * seconds)
    lat: list[float] = []
    codes: dict[str, int] = {}
    limits = httpx.Limits(max_connections=OPEN_LOOP_CONNECTIONS, max_keepalive_connections=OPEN_LOOP_CONNECTIONS)
    clients = [httpx.AsyncClient(base_url=cfg.base_url, timeout=300, limits=limits) for _ in range(OPEN_LOOP_CLIENTS)]
    turns = [asyncio.Semaphore(OPEN_LOOP_CONNECTIONS) for _ in clients]
    try:
        t0 = time.perf_counter()

        async def one(i: int, due: float) -> None:
            client, turn = clients[i % len(clients)], turns[i % len(clients)]
            async with turn:
                try:
                    resp = await client.post("/api/v1/tickets", json=_payload(rng, i, "peak"), headers=headers)
                    code = str(resp.status_code)
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
            codes[code] = codes.get(code, 0) + 1
            if code == "201":
                lat.append((time.perf_counter() - due) * 1000)

        tasks = []
        for i in range(total):
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, due)))
        sent = time.perf_counter() - t0
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - t0
    finally:
        for client in clients:
            await client.aclose()
    return {"offered_per_second": rate, "offered_seconds": seconds, "requests": total,
            "sending_seconds": round(sent, 2), "seconds": round(wall, 2), "created": len(lat),
            "tickets_per_second": round(len(lat) / wall, 1) if wall else None,
            "latency_ms": summary(lat), "status_codes": codes, "connections": OPEN_LOOP_CLIENTS * OPEN_LOOP_CONNECTIONS,
            "latency_note": "from the moment each request was due (open loop)"}


async def _closed_loop(cfg: Config, token: str, seconds: float) -> dict:
    rng = random.Random(37)
    headers = {"Authorization": f"Bearer {token}"}
    lat: list[float] = []
    codes: dict[str, int] = {}
    counter = iter(range(10**9))
    limits = httpx.Limits(max_connections=cfg.concurrency, max_keepalive_connections=cfg.concurrency)
    async with httpx.AsyncClient(base_url=cfg.base_url, timeout=300, limits=limits) as client:
        t0 = time.perf_counter()

        async def client_loop() -> None:
            while time.perf_counter() - t0 < seconds:
                t = time.perf_counter()
                try:
                    resp = await client.post("/api/v1/tickets", json=_payload(rng, next(counter), "full"),
                                             headers=headers)
                    code = str(resp.status_code)
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
                codes[code] = codes.get(code, 0) + 1
                if code == "201":
                    lat.append((time.perf_counter() - t) * 1000)

        await asyncio.gather(*(client_loop() for _ in range(cfg.concurrency)))
        wall = time.perf_counter() - t0
    return {"clients": cfg.concurrency, "seconds": round(wall, 2), "created": len(lat),
            "tickets_per_second": round(len(lat) / wall, 1) if wall else None, "latency_ms": summary(lat),
            "status_codes": codes}


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time a process has used so far (``/proc/<pid>/stat``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Servers whose processes are counted together by name (``/proc/<pid>/comm``): PostgreSQL's backends, Redis.
SERVERS = {"database server": "postgres", "redis": "redis-server"}


def _server_cpu(comm: str) -> dict[int, float]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() != comm:
                    continue
            except OSError:
                continue
            if (used := cpu_seconds(int(entry.name))) is not None:
                found[int(entry.name)] = used
    return found


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (``/proc/stat``: all but idle and I/O wait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _cpu_of(pids: dict[str, int]) -> dict[str, float | dict | None]:
    found: dict[str, float | dict | None] = {name: cpu_seconds(pid) for name, pid in pids.items()}
    found.update({name: _server_cpu(comm) for name, comm in SERVERS.items()})
    found["whole machine"] = _machine_busy()
    return found


def _cpu_used(before: dict, after: dict, seconds: float) -> dict[str, float | None]:
    """Cores used on average over ``seconds`` by each process (the load generator and receivers: this one), by
    the servers' processes together (one started meanwhile counted from zero, one ended meanwhile not at all),
    and by the whole machine."""
    used = {}
    for name, start in before.items():
        end = after.get(name)
        if isinstance(start, dict) and isinstance(end, dict):
            spent = sum(value - start.get(pid, 0.0) for pid, value in end.items())
            used[name] = round(spent / seconds, 2) if seconds and end else None
        else:
            used[name] = round((end - start) / seconds, 2) if seconds and None not in (start, end) else None
    return used


def _under_load(name: str, load, drain_limit: float, out: dict, receiver: Receiver,
                pids: dict[str, int] | None = None) -> None:
    pids = {**(pids or {}), "load generator and receivers": os.getpid()}
    sampler = LagSampler().start()
    hooks_before = receiver.count
    try:
        time.sleep(1.0)
        start_lag = sampler.last()
        cpu0 = _cpu_of(pids)
        t0 = time.perf_counter()
        result = load()
        t1 = time.perf_counter()
        cpu1 = _cpu_of(pids)
        drained = sampler.wait_zero(drain_limit)
        t2 = time.perf_counter()
        cpu2 = _cpu_of(pids)
    finally:
        sampler.stop()
    result["cores_used_during_run"] = _cpu_used(cpu0, cpu1, t1 - t0)
    result["cores_used_while_draining"] = _cpu_used(cpu1, cpu2, t2 - t1)
    result["lag_at_start_events"] = {k: v[0] for k, v in start_lag.items()}
    result["lag_during_run"] = sampler.window(t0, t1)
    result["drained_after_run_seconds"] = drained
    if drained is None:
        last = sampler.last()
        result["lag_left_events"] = {k: v[0] for k, v in last.items()}
        result["lag_left_seconds"] = {k: v[1] for k, v in last.items()}
        result["drain_window"] = sampler.window(t1, t2)
        result["note"] = f"not drained {drain_limit:.0f} s after the run"
    result["webhooks_received"] = receiver.count - hooks_before
    out[name] = result
    worst = max((v["lag_seconds"]["p99"] for v in result["lag_during_run"].values()), default=None)
    log(f"  {name}: {result['created']} created at {result['tickets_per_second']}/s, worst lag p99 {worst} s, "
        f"drained {drained} s after the run, {result['webhooks_received']} webhooks received; cores used "
        f"during the run {result['cores_used_during_run']}, while draining {result['cores_used_while_draining']}")


def peak(cfg: Config, out: dict, token: str, *, pids: dict[str, int] | None = None) -> None:
    rate = _env_float("BENCH_PEAK_RATE", 100)
    seconds = _env_float("BENCH_PEAK_SECONDS", 60)
    drain_limit = _env_float("BENCH_PEAK_DRAIN_SECONDS", 600)
    receiver = Receiver()
    try:
        out["setup"] = rules_and_webhook(receiver)
        time.sleep(1.5)  # the worker's rule and subscription caches see the new rows
        log(f"  peak: {rate:g} tickets/s offered for {seconds:g} s through POST /api/v1/tickets")
        _under_load(f"peak {rate:g}/s for {seconds:g} s", lambda: asyncio.run(_open_loop(cfg, token, rate, seconds)),
                    drain_limit, out, receiver, pids)
        if cfg.wanted("pipeline.full"):
            log(f"  full speed: {cfg.concurrency} clients for {seconds:g} s")
            _under_load(f"full speed, {cfg.concurrency} clients for {seconds:g} s",
                        lambda: asyncio.run(_closed_loop(cfg, token, seconds)), drain_limit, out, receiver, pids)
    finally:
        receiver.close()


# -- drain throughput with one and two worker processes (PostgreSQL) -----------------------------------------------

def _backlog(count: int) -> int:
    """Tickets created in this process while no worker runs: the events they wrote wait for the workers."""
    from django.db import close_old_connections

    from atende.accounts.models import User
    from atende.core.actor import Actor
    from atende.tickets.models import TicketEvent
    from atende.tickets.services import ticket_create

    before = TicketEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    customers = list(User.objects.filter(role="customer").order_by("id")[:300])
    rng = random.Random(41)
    for i in range(count):
        customer = customers[i % len(customers)]
        subject, body = _text(rng)
        ticket_create(actor=Actor.for_user(customer), requester=customer, subject=subject, body_text=body,
                      channel="web")
    close_old_connections()
    return TicketEvent.objects.filter(id__gt=before, backfill=False).count()


def _rate_with(cfg: Config, n: int, window: float) -> dict:
    """Start ``n`` worker processes on the backlog; once every one of them is up, count the subscriber events they
    handle for ``window`` seconds (or until the backlog is gone, whichever comes first)."""
    from django.db import close_old_connections
    from django.utils import timezone

    from atende.core.models import SubscriberCursor, WorkerHeartbeat
    from atende.core.outbox.status import max_lag_seconds

    processed = lambda: sum(SubscriberCursor.objects.values_list("processed_total", flat=True))  # noqa: E731
    log_dir = cfg.var_dir / "logs"
    launched = timezone.now()
    procs = [subprocess.Popen([PYTHON, "-m", "atende", "events", "work", "--interval", "0.2"], env=cfg.env(),
                              cwd=REPO, stdout=open(log_dir / f"scale-worker{i}.log", "w"),  # noqa: SIM115
                              stderr=subprocess.STDOUT) for i in range(n)]
    try:
        deadline = time.perf_counter() + 600
        while WorkerHeartbeat.objects.filter(started_at__gte=launched).count() < n:  # imports take a while on a loaded machine
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{n} worker(s) did not start within 600 s")
            time.sleep(0.2)
            close_old_connections()
        before, t0 = processed(), time.perf_counter()
        lag_left = True
        while time.perf_counter() - t0 < window:
            time.sleep(0.5)
            close_old_connections()
            if max_lag_seconds() == 0:
                lag_left = False
                break
        handled, seconds = processed() - before, time.perf_counter() - t0
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    return {"workers": n, "seconds": round(seconds, 1), "subscriber_events": handled,
            "subscriber_events_per_second": round(handled / seconds, 1) if seconds else None,
            "backlog_left": lag_left}


def workers(cfg: Config, out: dict) -> None:
    if cfg.db != "postgresql":
        raise Skip("several workers run on PostgreSQL only")
    from atende.core.outbox.dispatch import partitions

    count = int(os.environ.get("BENCH_SCALE_TICKETS", 300))
    window = _env_float("BENCH_SCALE_SECONDS", 60)
    rows = []
    for n in (1, 2):
        events = _backlog(count)
        log(f"  backlog topped up with {count} tickets ({events} events): {n} worker(s) for up to {window:g} s")
        row = _rate_with(cfg, n, window)
        row.update(tickets_added=count, events_added=events)
        log(f"    {n} worker(s): {row['subscriber_events']} subscriber events in {row['seconds']} s = "
            f"{row['subscriber_events_per_second']}/s")
        rows.append(row)
    ratio = (round(rows[1]["subscriber_events_per_second"] / rows[0]["subscriber_events_per_second"], 2)
             if rows[0]["subscriber_events_per_second"] else None)
    out["drain with 1 and 2 workers"] = {"runs": rows, "partitions": partitions(), "ratio": ratio}
    log(f"  two workers / one: {ratio}x")
