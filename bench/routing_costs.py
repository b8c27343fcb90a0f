#!/usr/bin/env python
"""What the triggers subscriber costs per created ticket when routing sends every new ticket to a team with
automatic assignment: N tickets created in-process on a copy of a benchmark database, then their events handed
to the subscriber in batches of B tickets (as the events worker hands a batch over: one transaction, one batch
scope), with CPU time, wall time and queries.

    make bench BENCH_TICKETS=20000 BENCH_ONLY=none    # once: creates bench/var/atende-20000.sqlite3
    .venv/bin/python bench/routing_costs.py --db bench/var/atende-20000.sqlite3 --tickets 400 --batch 50

Compare two trees by running this file from each (it imports the tree it sits in) one after the other.
"""

from __future__ import annotations

import argparse
import json
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
    parser.add_argument("--tickets", type=int, default=400)
    parser.add_argument("--batch", type=int, default=50, help="created tickets per subscriber batch")
    parser.add_argument("--strategy", default="least_loaded", choices=["least_loaded", "round_robin", "skills"])
    parser.add_argument("--agents", type=int, default=8, help="online agents in the routed team")
    args = parser.parse_args()
    work = django_on_copy(args.db, prefix="atende-routing-costs-")
    from django.db import connection, transaction

    from atende.accounts.models import Team, User
    from atende.automation.services.assignment import team_set_assignment
    from atende.automation.services.definitions import rule_save
    from atende.automation.subscribers import automation_on_events
    from atende.core.actor import Actor
    from atende.core.memo import batch_scope
    from atende.core.outbox.dispatch import payload_of
    from atende.tickets.models import Ticket, TicketEvent
    from atende.tickets.services import ticket_create

    team = Team.objects.create(name="Routed", slug="bench-routed")
    team_set_assignment(team=team, strategy=args.strategy, reassign_when_offline=False)
    staff = list(User.objects.filter(role__in=["agent", "admin"], is_active=True).order_by("id")[:args.agents])
    # online and without a capacity (seeded agents are at theirs), so every one of them can take tickets
    User.objects.filter(pk__in=[u.pk for u in staff]).update(availability="online", capacity=None)
    team.members.add(*staff)
    rule_save(kind="routing", name="Everything to Routed", conditions={},
              actions=[{"type": "set_team", "value": team.pk}, {"type": "add_tags", "value": ["routed"]}])
    customers = list(User.objects.filter(role="customer").order_by("-id")[:500])
    first_event = (TicketEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0)
    tickets = [ticket_create(actor=Actor.for_user(c), requester=c, subject="Export to Excel fails",
                             body_text=f"Since this morning the export button does nothing ({i}).", channel="web")
               for i, c in zip(range(args.tickets), (customers * (args.tickets // len(customers) + 1)), strict=False)]
    fields = ("id", "type", "ticket_id", "actor_kind", "actor_user_id", "source_event_id", "data", "created_at")
    by_ticket: dict[int, list] = {}
    for row in TicketEvent.objects.filter(id__gt=first_event).order_by("id").values(*fields):
        by_ticket.setdefault(row["ticket_id"], []).append(payload_of(row))
    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    wall, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(count):
        for start in range(0, len(tickets), args.batch):
            events = [p for t in tickets[start:start + args.batch] for p in by_ticket.get(t.pk, [])]
            with transaction.atomic(), batch_scope():
                automation_on_events(events)
    cpu_s, wall_s = time.process_time() - cpu, time.perf_counter() - wall
    assigned = Ticket.objects.filter(pk__in=[t.pk for t in tickets], team=team).exclude(assignee=None)
    spread = sorted(assigned.values_list("assignee_id", flat=True))
    result = {"tickets": args.tickets, "batch": args.batch, "strategy": args.strategy,
              "cpu_ms_per_ticket": round(cpu_s * 1000 / args.tickets, 2),
              "wall_ms_per_ticket": round(wall_s * 1000 / args.tickets, 2),
              "queries_per_batch": round(queries[0] / -(-args.tickets // args.batch), 1),
              "assigned": assigned.count(), "per_agent": {a: spread.count(a) for a in sorted(set(spread))}}
    print(json.dumps(result))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
