#!/usr/bin/env python
"""``make bench``: measure Atende at one size on one database and write bench/results/<date>-<db>-<N>.json.

    BENCH_TICKETS=100000 make bench                                       # SQLite file under bench/var/
    BENCH_TICKETS=100000 DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_atende make bench

Options (environment): BENCH_REQUESTS (per read, default 200), BENCH_CONCURRENCY (API clients, 8),
BENCH_CREATIONS (tickets per creation path, 400), BENCH_MAIL_MESSAGES (300), BENCH_WS_CLIENTS (1000), BENCH_WS_PROCS (client processes for them, 4),
BENCH_DEEP_PAGES (20), BENCH_PEAK_RATE (tickets/s offered in the peak run, 100), BENCH_PEAK_SECONDS (60),
BENCH_PEAK_DRAIN_SECONDS (600), BENCH_SCALE_TICKETS (backlog for one and for two workers, 300),
BENCH_SCALE_SECONDS (how long each works on it, 60), BENCH_ONLY / BENCH_SKIP (comma-separated name prefixes: seed, reads, reads.search,
writes.api, pipeline.peak, pipeline.full, pipeline.workers, realtime, chat…), BENCH_REUSE=1 (keep an existing database of that size), BENCH_PORT (8765).
Everything runs on 127.0.0.1. PostgreSQL databases must be named bench_*, atende_bench_* or *_bench (the harness drops and recreates them).
See docs/benchmarks.md.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import fixtures, pipeline, reads, realtime, writes  # noqa: E402
from harness.common import Config, Skip, log, machine, now_iso  # noqa: E402
from harness.httpload import login  # noqa: E402
from harness.report import markdown, write_json  # noqa: E402
from harness.server import Server  # noqa: E402


class Run:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.results: dict = {"system": "atende", "db": cfg.db, "tickets": cfg.tickets, "started": now_iso(),
                              "machine": machine(), "config": {k: v for k, v in vars(cfg).items()
                                                               if k not in ("only", "skip")},
                              "database": {}, "reads": {}, "writes": {}, "pipeline": {}, "realtime": {},
                              "memory": {},
                              "skipped": {}, "errors": {}, "notes": []}

    def step(self, name: str, fn: Callable[[], None]) -> None:
        """One measurement: skipped with a note when its page or command does not exist yet; an error in one
        measurement is recorded and the others still run."""
        if not self.cfg.wanted(name):
            return
        try:
            fn()
        except Skip as exc:
            self.results["skipped"][name] = str(exc)
            log(f"  skipped {name}: {exc}")
        except Exception as exc:  # noqa: BLE001 - report it, measure the rest
            self.results["errors"][name] = f"{type(exc).__name__}: {exc}"
            log(f"  ERROR in {name}: {type(exc).__name__}: {exc}")
            traceback.print_exc()

    def execute(self) -> dict:
        cfg, res = self.cfg, self.results
        if cfg.only and all(name.startswith("chat") for name in cfg.only):  # the chat run needs no seeded database
            self.step("chat", self.chat)
            res["finished"] = now_iso()
            res["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
            return res
        res["database"] = fixtures.prepare(cfg)
        fixtures.setup_django(cfg)
        targets = fixtures.targets(cfg)
        res["targets"] = targets
        rd, wr = res["reads"], res["writes"]
        with Server(cfg) as server:
            # Reads are measured on an idle worker: work queued by the seeding (a time rule armed for every
            # existing ticket, say) would otherwise run during them and take one of the two cores.
            res["worker_backlog_before_reads_seconds"] = self._drain_worker(server, limit=cfg.drain_seconds)
            client = login(cfg, targets["agent_email"], targets["agent_password"])
            self.step("reads.queues", lambda: reads.queues(client, cfg, rd))
            self.step("reads.saved_view", lambda: reads.saved_view(client, cfg, rd,
                                                                   *fixtures.saved_view(cfg, targets["agent_id"])))
            self.step("reads.nav", lambda: reads.queue_nav(client, cfg, rd))
            self.step("reads.nav", lambda: reads.page_with_nav(client, cfg, rd))
            self.step("reads.ticket", lambda: reads.ticket_pages(client, cfg, rd, targets))
            self.step("reads.search", lambda: reads.search(client, cfg, rd, targets))
            self.step("reads.customer", lambda: reads.customer_profile(client, cfg, rd, targets))
            self.step("reads.reports", lambda: reads.reports(client, cfg, rd))
            token: dict = {}
            self.step("reads.api", lambda: token.setdefault("t", fixtures.api_token(cfg, targets["agent_email"])))
            if token:
                self.step("reads.api", lambda: reads.api_list(cfg, rd, token["t"]))
            self.step("writes.service", lambda: writes.service(cfg, wr))
            res["worker_backlog_after_service_seconds"] = self._drain_worker(server)
            self.step("writes.e2e", lambda: writes.end_to_end(cfg, wr, drained=self._drained, limit=cfg.drain_seconds))
            if token or cfg.wanted("writes.api"):
                self.step("writes.api", lambda: writes.api(
                    cfg, wr, token.get("t") or fixtures.api_token(cfg, targets["agent_email"])))
            self.step("writes.mail", lambda: writes.mail_import(cfg, wr))
            # The peak run starts from a drained worker, so the lag it reports is the load's own.
            if cfg.wanted("pipeline.peak"):
                res["worker_backlog_before_peak_seconds"] = self._drain_worker(server, limit=cfg.drain_seconds)
            self.step("pipeline.peak", lambda: pipeline.peak(
                cfg, res["pipeline"], token.get("t") or fixtures.api_token(cfg, targets["agent_email"]),
                pids={name: proc.pid for name, proc in server.procs.items()}))
            # The creation load leaves notifications and rules queued; the fan-out is measured once they ran,
            # like the reads (with 1,000 clients connecting while the worker drained, none saw the change).
            res["worker_backlog_drain_seconds"] = self._drain_worker(server)
            self.step("realtime", lambda: realtime.fanout(cfg, res["realtime"], client.cookies["sessionid"],
                                                          targets["agent_id"], server.procs["web"].pid))
            res["memory"] = server.peak_rss()
            res["memory_note"] = "VmHWM of each process over the whole run (reads, creation load, websockets)"
            client.close()
        # Outside the server: the backlog is worked on by worker processes started for the measurement.
        self.step("pipeline.workers", lambda: pipeline.workers(cfg, res["pipeline"]))
        self.step("chat", self.chat)
        res["db_size_mib"] = self._db_size()
        res["finished"] = now_iso()
        res["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        return res

    def chat(self) -> None:
        """Live chat under load (bench/chat_load.py): its own demo desk served as ``atende serve`` serves it (the
        worker beside the web process; the conversations set up through the chat services), so
        the figures do not depend on BENCH_TICKETS or DATABASE_URL. BENCH_CHAT_VISITORS (1000), BENCH_CHAT_AGENTS
        (50), BENCH_CHAT_PERIOD (seconds between a visitor's messages, 10), BENCH_CHAT_SECONDS (60)."""
        import json
        import subprocess

        env = os.environ
        args = ["--visitors", env.get("BENCH_CHAT_VISITORS", "1000"), "--agents", env.get("BENCH_CHAT_AGENTS", "50"),
                "--period", env.get("BENCH_CHAT_PERIOD", "10"), "--seconds", env.get("BENCH_CHAT_SECONDS", "60")]
        log(f"  chat: {' '.join(args)}")
        # A process of its own: it sets Django up on its own demo database.
        out = subprocess.run([sys.executable, str(Path(__file__).with_name("chat_load.py")), *args], check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        self.results["chat"] = json.loads(out)

    @staticmethod
    def _drained() -> bool:
        """Every events subscriber has handled every event, and no background task is ready or running."""
        from django_tasks_db.models import DBTaskResult

        from atende.core.models import SubscriberCursor
        from atende.core.outbox.status import max_lag_seconds

        if DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists():
            return False
        return SubscriberCursor.objects.exists() and max_lag_seconds() == 0

    def _drain_worker(self, server: Server, limit: float = 300) -> float | None:
        """Wait (up to ``limit`` seconds) until the worker has handled every event and run every queued task."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < limit and server.alive("worker"):
            if self._drained():
                return round(time.perf_counter() - t0, 1)
            time.sleep(0.5)
        self.results["notes"].append(f"the worker had not drained its queue after {limit:.0f} s")
        return None

    def _db_size(self) -> float | None:
        from django.db import connection

        if self.cfg.db == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_database_size(current_database())")
                return round(cursor.fetchone()[0] / 2**20, 1)
        path = self.cfg.database_url.removeprefix("sqlite:///")
        return round(sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s)) / 2**20, 1)


def chat_markdown(chat: dict) -> str:
    a, v, rss = chat["visitor_to_agent_ms"], chat["agent_to_visitor_ms"], chat["server_rss_mib"]
    return "\n".join([
        "| live chat | visitors | agents | msg/s offered | msg/s reached the agent | visitor → agent p50 / p99 ms "
        "| agent → visitor p50 / p99 ms | server CPU ms per message | server RSS MiB (max sampled) | set-up s "
        "| load average |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|",
        f"| `{chat['command']}` | {chat['visitors']} | {chat['agents']} | {chat['offered_messages_per_s']} | "
        f"{chat['achieved_messages_per_s']} | {a['p50']} / {a['p99']} | {v['p50']} / {v['p99']} | "
        f"{chat.get('server_cpu_ms_per_message')} | {rss['max_sampled']} | {chat.get('setup_seconds')} | "
        f"{chat['load_average_end_of_load']} |", ""])


def main(cfg: Config | None = None) -> dict:
    cfg = cfg or Config.from_env()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: stop the server and worker it started
    log(f"Atende benchmark: {cfg.tickets:,} tickets on {cfg.db} ({cfg.database_url})")
    results = Run(cfg).execute()
    path = write_json(results, cfg.results_dir, f"{cfg.db}-{cfg.tickets}")
    print()
    print(markdown(results))
    if results.get("chat"):
        print(chat_markdown(results["chat"]))
    print()
    log(f"wrote {path}")
    return results


if __name__ == "__main__":
    main()
