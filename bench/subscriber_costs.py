#!/usr/bin/env python
"""What each events subscriber costs per ticket: N tickets created in-process on a copy of a benchmark database,
then every subscriber run to the end of the stream, one after another, with wall time, CPU time and queries each;
then again for the events those runs caused (rows marked "caused").

    make bench BENCH_TICKETS=20000 BENCH_ONLY=none    # once: creates bench/var/atende-20000.sqlite3
    .venv/bin/python bench/subscriber_costs.py --db bench/var/atende-20000.sqlite3 --tickets 300

CPU seconds move little with the machine's load; compare two trees by running this file from each (PYTHONPATH
set to the tree) one after the other. Prints one line per subscriber and a JSON summary.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.scratch import django_on_copy  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench/var/atende-20000.sqlite3", help="benchmark SQLite database to copy")
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--pipeline-rules", action="store_true",
                        help="first set up the peak run's triggers (a mail to every new requester among them) and a "
                             "webhook for every created ticket, as make bench's pipeline runs do")
    parser.add_argument("--profile", action="store_true",
                        help="also count function calls per ticket for each subscriber (cProfile; deterministic, "
                             "unlike the times, which it inflates)")
    args = parser.parse_args()
    work = django_on_copy(args.db, prefix="atende-subscriber-costs-")
    from django.db import connection
    from django.urls import get_resolver

    import atende.config.urls  # noqa: F401 - imported once before measuring (notifications build URLs)
    from atende.accounts.models import User
    from atende.core.actor import Actor
    from atende.core.events import SUBSCRIBERS, resolve
    from atende.core.outbox import dispatch
    from atende.core.outbox.drain import drain
    from atende.tickets.services import ticket_create

    for sub in SUBSCRIBERS:
        resolve(sub.handler)
    get_resolver().reverse_dict  # noqa: B018 - URL patterns compiled before measuring: a worker does it once
    if args.pipeline_rules:
        from bench.harness.pipeline import Receiver, rules_and_webhook

        print("rules:", rules_and_webhook(Receiver()))  # the receiver is never called: nothing is sent here
    drain(jobs=False)  # every cursor at the end of the stream first
    customers = list(User.objects.filter(role="customer").order_by("-id")[:500])
    rng = random.Random(5)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(args.tickets):
        customer = customers[i % len(customers)]
        ticket_create(actor=Actor.for_user(customer), requester=customer, subject="Export to Excel fails",
                      body_text=f"Since this morning the export button does nothing. Order {rng.randint(1, 10**7)}.",
                      channel="web")
    result = {"tickets": args.tickets, "create": {"seconds": round(time.perf_counter() - wall, 2),
                                                   "cpu_seconds": round(time.process_time() - cpu, 2)}}
    print(f"create: {args.tickets} tickets, {result['create']['seconds']} s, cpu {result['create']['cpu_seconds']} s")
    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    # Then a second pass: the events the first pass's own changes caused (a trigger's priority and tag changes,
    # SLA events), which a subscriber that runs after another sees only once that one has handled them.
    for label in ("", " caused"):
        for unit in dispatch.units():
            queries[0] = 0
            wall, cpu, events = time.perf_counter(), time.process_time(), 0
            profile = cProfile.Profile() if args.profile else None
            with connection.execute_wrapper(count):
                while dispatch.lease_claim(unit, "bench"):
                    if profile:
                        profile.enable()
                    done = dispatch.run_batch(unit, "bench")
                    if profile:
                        profile.disable()
                    if not done:
                        break
                    events += done
            dispatch.lease_release(unit, "bench")
            if label and not events:
                continue
            row = {"events": events, "seconds": round(time.perf_counter() - wall, 2),
                   "cpu_seconds": round(time.process_time() - cpu, 2), "queries": queries[0],
                   "cpu_ms_per_ticket": round((time.process_time() - cpu) * 1000 / args.tickets, 2),
                   "queries_per_ticket": round(queries[0] / args.tickets, 2)}
            if profile and events:
                row["calls_per_ticket"] = round(pstats.Stats(profile).total_calls / args.tickets)
            result[f"{unit}{label}"] = row
            print(f"{unit}{label}: {events} events, {row['seconds']} s, cpu {row['cpu_seconds']} s "
                  f"({row['cpu_ms_per_ticket']} ms per ticket), {queries[0]} queries"
                  + (f", {row['calls_per_ticket']} calls per ticket" if "calls_per_ticket" in row else ""))
    print(json.dumps(result))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
