#!/usr/bin/env python
"""Profile one page of a benchmark database in-process with pyinstrument, and list its SQL with timings.

    .venv/bin/python bench/profile_page.py /console/?view=all_open            # the bench SQLite database
    BENCH_TICKETS=100000 DATABASE_URL=postgres://…/bench_atende .venv/bin/python bench/profile_page.py "/console/search?q=cache"

Uses the same settings and database as ``make bench`` (run that first), logs in as the benchmark agent,
warms up, then profiles ``--repeat`` requests and prints the slowest SQL statements (with EXPLAIN on request).
``--templates`` also prints the CPU time of each template and template tag per request (inclusive: a template's
time holds its includes'), measured without the profiler.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import fixtures  # noqa: E402
from harness.common import Config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the three slowest statements")
    parser.add_argument("--html", help="also write pyinstrument's HTML report here")
    parser.add_argument("--templates", action="store_true", help="CPU time per template and template tag")
    args = parser.parse_args()
    cfg = Config.from_env()
    fixtures.setup_django(cfg)

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    from atende.accounts.models import User

    targets = fixtures.targets(cfg)
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(User.objects.get(pk=targets["agent_id"]))
    for _ in range(2):
        assert client.get(args.url).status_code == 200, args.url
    # Without the profiler first: on a shared machine the CPU time is the steadier figure (wall time includes
    # waiting for a core).
    walls, cpus = [], []
    for _ in range(max(args.repeat, 5)):
        wall, cpu = time.perf_counter(), time.process_time()
        client.get(args.url)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    walls.sort()
    cpus.sort()
    if args.templates:
        template_times(client, args.url, max(args.repeat, 5))
    timing = (f"wall p50 {walls[len(walls) // 2]:.1f} ms, min {walls[0]:.1f} ms; "
              f"CPU p50 {cpus[len(cpus) // 2]:.1f} ms, min {cpus[0]:.1f} ms")
    profiler = Profiler(interval=0.0005)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        profiler.start()
        for _ in range(args.repeat):
            client.get(args.url)
        profiler.stop()
        elapsed = (time.perf_counter() - started) / args.repeat
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.html:
        Path(args.html).write_text(profiler.output_html())
    per_request = queries.captured_queries[-(len(queries.captured_queries) // args.repeat):]
    sql_ms = sum(float(q["time"]) for q in per_request) * 1000
    print(f"{args.url}: {elapsed * 1000:.1f} ms per request profiled, {len(per_request)} queries, "
          f"{sql_ms:.1f} ms in SQL; unprofiled {timing}")
    slowest = sorted(per_request, key=lambda q: float(q["time"]), reverse=True)
    for q in slowest[:6]:
        sql = q["sql"]
        where = sql.find(" FROM ")
        print(f"  {float(q['time']) * 1000:8.1f} ms  {sql[:120]} …{sql[where:where + 900]}")
    if args.explain:
        for q in slowest[:3]:
            with connection.cursor() as cursor:
                prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
                cursor.execute(prefix + q["sql"])
                print("\n".join(" | ".join(str(c) for c in row) for row in cursor.fetchall()))
                print()


def template_times(client, url: str, repeat: int) -> None:
    """CPU per request of each template (``Template._render``) and simple tag, inclusive of what they include."""
    from collections import defaultdict

    from django.template import base, library

    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)

    def timing(original, name_of):
        def wrapped(self, context):
            started = time.process_time()
            try:
                return original(self, context)
            finally:
                spent[name_of(self)] += time.process_time() - started
                calls[name_of(self)] += 1
        return wrapped

    saved = base.Template._render, library.SimpleNode.render
    base.Template._render = timing(saved[0], lambda t: str(t.name))
    library.SimpleNode.render = timing(saved[1], lambda n: f"{{% {getattr(n.func, '__name__', '?')} %}}")
    try:
        started = time.process_time()
        for _ in range(repeat):
            client.get(url)
        total = (time.process_time() - started) / repeat
    finally:
        base.Template._render, library.SimpleNode.render = saved
    print(f"CPU per request {total * 1000:.1f} ms; by template (inclusive), per request:")
    for name, seconds in sorted(spent.items(), key=lambda item: -item[1])[:25]:
        print(f"  {seconds / repeat * 1000:7.2f} ms  x{calls[name] / repeat:<4.0f} {name}")


if __name__ == "__main__":
    main()
