#!/usr/bin/env python
"""What the events worker's passes cost per ticket when tickets arrive a few at a time, as in the live pipeline:
GROUP tickets created in-process on a copy of a benchmark database, then ``EventsWorker.tick()`` until a pass
finds nothing, repeated; the worker's statements (by kind), its write transactions (``BEGIN`` and writes made
outside a transaction: each a turn of SQLite's writers' lock) and CPU are counted, the creations are not.

    .venv/bin/python bench/worker_pass_costs.py --db <copy of make bench's desk> --tickets 100 --group 5

Statements per ticket do not move with the machine's load; compare two trees by running this file from each
(PYTHONPATH set to the tree). ``--profile FILE`` adds a cProfile of the passes (its function-call count is
deterministic too). ``bench/subscriber_costs.py`` measures the subscribers on whole batches instead.
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
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.scratch import django_on_copy  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench/var/atende-20000.sqlite3", help="benchmark SQLite database to copy")
    parser.add_argument("--tickets", type=int, default=100)
    parser.add_argument("--group", type=int, default=5, help="tickets created between the worker's passes")
    parser.add_argument("--profile", help="write a cProfile of the passes here and print its top lines")
    args = parser.parse_args()
    work = django_on_copy(args.db, prefix="atende-worker-pass-costs-")
    from django.db import connection
    from django.urls import get_resolver

    import atende.config.urls  # noqa: F401 - imported once before measuring (notifications build URLs)
    from atende.accounts.models import User
    from atende.core.actor import Actor
    from atende.core.events import SUBSCRIBERS, resolve
    from atende.core.outbox.drain import drain
    from atende.core.outbox.worker import EventsWorker
    from atende.tickets.services import ticket_create

    for sub in SUBSCRIBERS:
        resolve(sub.handler)
    get_resolver().reverse_dict  # noqa: B018 - URL patterns compiled before measuring: a worker does it once
    drain(jobs=False)  # every cursor at the end of the stream first
    customers = list(User.objects.filter(role="customer").order_by("-id")[:500])
    rng = random.Random(5)
    worker = EventsWorker(worker_id="bench", jobs=False)
    counts: Counter[str] = Counter()
    counting = [False]

    def count(execute, sql, params, many, context):
        if counting[0]:
            kind = sql.lstrip().split(None, 1)[0].upper()
            counts[kind] += 1
            counts["statements"] += 1
            counts["writes"] += kind in ("INSERT", "UPDATE", "DELETE")
            # Turns of SQLite's writers' lock: transactions begun, and writes outside any (each its own).
            counts["write_transactions"] += kind == "BEGIN" or (kind in ("INSERT", "UPDATE", "DELETE")
                                                                and not connection.in_atomic_block)
        return execute(sql, params, many, context)

    profile = cProfile.Profile() if args.profile else None
    cpu, passes = 0.0, 0
    with connection.execute_wrapper(count):
        for start in range(0, args.tickets, args.group):
            for i in range(start, min(args.tickets, start + args.group)):
                customer = customers[i % len(customers)]
                ticket_create(actor=Actor.for_user(customer), requester=customer, subject="Export to Excel fails",
                              body_text=f"The export button does nothing. Order {rng.randint(1, 10**7)}.",
                              channel="web")
            counting[0], began = True, time.process_time()
            if profile:
                profile.enable()
            while True:
                passes += 1
                if not worker.tick():
                    break
            if profile:
                profile.disable()
            cpu += time.process_time() - began
            counting[0] = False
    n = args.tickets
    result = {"tickets": n, "group": args.group, "passes": passes, "cpu_ms_per_ticket": round(cpu * 1000 / n, 2),
              **{f"{kind}_per_ticket": round(value / n, 2) for kind, value in sorted(counts.items())}}
    if profile:
        profile.dump_stats(args.profile)
        stats = pstats.Stats(args.profile)
        result["function_calls_per_ticket"] = round(stats.total_calls / n)
        stats.sort_stats("cumulative").print_stats(30)
    print(json.dumps(result))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
