#!/usr/bin/env python
"""What creating one ticket costs, deterministically: SQL statements (all, and inside the write transaction, which
on SQLite holds the one writers' turn) and Python function calls (cProfile), per ticket, for

- ``service``: ``ticket_create`` in-process for a known customer;
- ``service-new``: the same for a new address (looked up, then the customer created in the ticket's transaction,
  as the API does);
- ``api`` / ``api-new``: ``POST /api/v1/tickets`` through Django's test client with a Bearer token, for a known
  and for a new requester address (the bench settings: production plus the request counter).

    PYTHONPATH=<tree> .venv/bin/python bench/create_costs.py --db <copy of make bench's desk> [--tickets 40]

Runs on a scratch copy of the database. With ``BENCH_REDIS_URL`` the cache is Redis (as in ``make bench``);
otherwise the process-local cache. The statement and call counts do not move with the machine's load; the CPU
times do (given for completeness). Compare two trees by running this file from each (``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def setup(db: str) -> Path:
    work = Path(tempfile.mkdtemp(prefix="atende-create-costs-"))
    shutil.copy(db, work / "db.sqlite3")
    os.environ.update({"DJANGO_SETTINGS_MODULE": "settings_bench", "SECRET_KEY": "bench",
                       "ALLOWED_HOSTS": "testserver,localhost", "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
                       "ATENDE_VAR_DIR": str(work / "state"), "LOG_LEVEL": "WARNING", "DEBUG": "0",
                       "SECURE_SSL_REDIRECT": "0", "SESSION_COOKIE_SECURE": "0", "CSRF_COOKIE_SECURE": "0",
                       "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
                       # The per-token limit is counted (as in production) but never reached here.
                       "API_RATE_LIMIT": "1000000"})
    import django

    django.setup()
    return work


class Meter:
    """Counts statements by kind, and those run while the connection holds the writers' turn (inside ``BEGIN``…
    ``COMMIT``); the turn's CPU and wall time from taking it to giving it back; with ``turn_profile`` set, the
    Python function calls made while holding it (what every other writer waits for, whatever the machine's load)."""

    def __init__(self, connection):
        self.connection = connection
        self.counts: Counter[str] = Counter()
        self.on = False
        self.turn_cpu = self.turn_wall = 0.0
        self._turn_started = None
        self.turn_profile: cProfile.Profile | None = None
        wrapper = type(connection)
        meter = self
        taken, done = wrapper._writer_turn, wrapper._writer_done

        def turn(conn):
            held = conn._writer_fd is not None
            taken(conn)
            if meter.on and not held and conn._writer_fd is not None:
                meter._turn_started = (time.process_time(), time.perf_counter())
                meter.counts["turns"] += 1
                if meter.turn_profile is not None:
                    meter.turn_profile.enable()

        def give_back(conn):
            if meter.on and conn._writer_fd is not None:  # the COMMIT (or ROLLBACK), which is not a cursor's
                meter.counts["statements"] += 1
                meter.counts["COMMIT"] += 1
                meter.counts["in turn"] += 1
            if meter._turn_started is not None:
                if meter.turn_profile is not None:
                    meter.turn_profile.disable()
                cpu, wall = meter._turn_started
                meter.turn_cpu += time.process_time() - cpu
                meter.turn_wall += time.perf_counter() - wall
                meter._turn_started = None
            done(conn)

        wrapper._writer_turn, wrapper._writer_done = turn, give_back

    def __call__(self, execute, sql, params, many, context):
        if self.on:
            kind = sql.lstrip().split(None, 1)[0].upper()
            self.counts["statements"] += 1
            self.counts[kind] += 1
            if self._turn_started is not None or kind == "BEGIN":
                self.counts["in turn"] += 1
        return execute(sql, params, many, context)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench/var/atende-20000.sqlite3", help="benchmark SQLite database to copy")
    parser.add_argument("--tickets", type=int, default=40, help="measured tickets per case (after 5 warm-up ones)")
    parser.add_argument("--cases", default="service,service-new,api,api-new")
    parser.add_argument("--profile", help="write each case's cProfile to PROFILE.<case> and print its top lines")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--sql", action="store_true", help="print the statements of one more ticket of each case")
    args = parser.parse_args()
    work = setup(args.db)
    from django.db import connection, connections, transaction
    from django.test import Client

    from atende.accounts.choices import IdentityKind
    from atende.accounts.identities import customer_create_for_identity
    from atende.accounts.models import User
    from atende.accounts.selectors import customer_for_identity
    from atende.api.services import api_token_create
    from atende.core.actor import Actor
    from atende.tickets.services import ticket_create

    customers = list(User.objects.filter(role="customer", is_active=True, email__isnull=False).order_by("id")[:200])
    agent = User.objects.filter(role__in=["agent", "admin"], is_active=True).order_by("id").first()
    _row, secret = api_token_create(actor=Actor.for_user(agent), user=agent, name="costs", scope="write")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    body = "The export button does nothing since this morning; order {n}."
    run = f"{os.getpid()}-{int(time.time())}"

    def service(i: int) -> None:
        customer = customers[i % len(customers)]
        ticket_create(actor=Actor.for_user(customer), requester=customer, subject="Export to Excel fails",
                      body_text=body.format(n=i), channel="web")

    def service_new(i: int) -> None:
        address = f"new-{run}-{i}@costs-{i % 7}.example"
        requester = customer_for_identity(kind=IdentityKind.EMAIL, value=address)
        assert requester is None
        with transaction.atomic():
            requester = customer_create_for_identity(kind=IdentityKind.EMAIL, value=address, name="New Person")
            ticket_create(actor=Actor.for_user(agent), requester=requester, subject="Export to Excel fails",
                          body_text=body.format(n=i), channel="email")

    def api(i: int, new: bool = False) -> None:
        email = f"api-{run}-{i}@costs-{i % 7}.example" if new else customers[i % len(customers)].email
        response = client.post("/api/v1/tickets", {"subject": "Export to Excel fails", "body": body.format(n=i),
                                                   "requester_email": email, "requester_name": "API Person"},
                               content_type="application/json")
        assert response.status_code == 201, response.content[:500]

    cases = {"service": service, "service-new": service_new, "api": api, "api-new": lambda i: api(i, new=True)}
    meter = Meter(connections["default"])
    results = {}
    with connection.execute_wrapper(meter):
        for name in [c for c in args.cases.split(",") if c]:
            make = cases[name]
            for i in range(5):
                make(10_000 + i)
            n = args.tickets
            # CPU without the profiler, then the same work again counted and profiled.
            meter.turn_cpu = meter.turn_wall = 0.0
            meter.on = True
            cpu, thread, wall = time.process_time(), time.thread_time(), time.perf_counter()
            for i in range(n):
                make(20_000 + i)
            meter.on = False
            turn_cpu, turn_wall = meter.turn_cpu / n * 1000, meter.turn_wall / n * 1000
            cpu = (time.process_time() - cpu) / n * 1000
            thread = (time.thread_time() - thread) / n * 1000
            wall = (time.perf_counter() - wall) / n * 1000
            meter.counts.clear()
            meter.turn_cpu = meter.turn_wall = 0.0
            profile = cProfile.Profile()
            meter.on = True
            profile.enable()
            for i in range(n):
                make(30_000 + i)
            profile.disable()
            meter.on = False
            stats = pstats.Stats(profile)
            per = {k: round(v / n, 2) for k, v in sorted(meter.counts.items())}
            # Once more, profiling only the writers' turn.
            meter.turn_profile = cProfile.Profile()
            meter.on = True
            for i in range(n):
                make(50_000 + i)
            meter.on = False
            turn_calls = round(pstats.Stats(meter.turn_profile).total_calls / n)
            meter.turn_profile = None
            results[name] = {"statements": per, "function_calls": round(stats.total_calls / n),
                             "function_calls_in_turn": turn_calls,
                             "cpu_ms": round(cpu, 2), "thread_cpu_ms": round(thread, 2), "wall_ms": round(wall, 2),
                             "turn_cpu_ms": round(turn_cpu, 2), "turn_wall_ms": round(turn_wall, 2)}
            print(f"{name}: {per.get('statements')} statements/ticket, {per.get('in turn', 0)} in the writers' "
                  f"turn; {results[name]['function_calls']} function calls/ticket, {turn_calls} in the turn; unprofiled, per ticket: CPU "
                  f"{cpu:.2f} ms (this thread {thread:.2f}), wall {wall:.2f} ms; in the writers' turn CPU {turn_cpu:.2f} ms, "
                  f"wall {turn_wall:.2f} ms; {per}")
            if args.sql:
                from django.test.utils import CaptureQueriesContext

                with CaptureQueriesContext(connection) as captured:
                    make(40_000)
                for query in captured.captured_queries:
                    print("   ", query["sql"][:160])
            if args.profile:
                stats.dump_stats(f"{args.profile}.{name}")
                stats.sort_stats("cumulative").print_stats(25)
    if args.json:
        print(json.dumps(results, indent=1))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
