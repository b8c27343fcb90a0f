#!/usr/bin/env python
"""What the web process's chat write path costs per message, in-process: CONVERSATIONS chats on the demo desk
(started and accepted through the chat services), then ROUNDS rounds in which every visitor sends a message and
its agent answers it, written in groups of GROUP (``chat.consumer_io.messages_write``, as the consumers' group
writer does; the pushes after the commit are left out). Counts the statements (by kind), CPU time and, with ``--profile``, Python function calls per message.

    .venv/bin/python bench/chat_write_costs.py --conversations 200 --rounds 3 --group 10

Statements and function calls per message do not move with the machine's load; compare two trees by running
this file from each (PYTHONPATH set to the tree). CPU ms are given for completeness.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--group", type=int, default=10, help="messages written in one transaction")
    parser.add_argument("--profile", help="write a cProfile of the writes here and print its top lines")
    parser.add_argument("--redis-url", default="", help="the cache (rate limits, presence) in Redis, as with "
                                                        "several web processes; also counts Redis commands")
    args = parser.parse_args()
    from atende.core.testing.migrated import migrated_database
    from atende.core.testing.server import SEED, server_env

    work = Path(tempfile.mkdtemp(prefix="atende-chat-write-costs-"))
    database = work / "db.sqlite3"
    env = server_env(database) | {"DJANGO_SETTINGS_MODULE": "atende.config.settings.prod", "DEBUG": "0",
                                  "ALLOWED_HOSTS": "localhost", "LOG_LEVEL": "WARNING",
                                  "CHAT_DEFAULT_MAX_CHATS": str(args.conversations)}
    if args.redis_url:
        env |= {"REDIS_URL": args.redis_url, "REDIS_PREFIX": f"chat-write-costs-{os.getpid()}"}
    migrated_database(env, seed=SEED % 20)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection

    from atende.accounts.choices import Availability, Role
    from atende.accounts.services import user_create
    from atende.chat import realtime
    from atende.chat.consumer_io import messages_write
    from atende.chat.models import Widget
    from atende.chat.services import AgentReply, VisitorMessage, chat_accept, chat_start
    from atende.chat.tokens import visitor_id_new
    from atende.core import asyncbridge
    from atende.core.events import events_suppressed

    widget = Widget.objects.select_related("team").order_by("id").first()
    agent = user_create(email="chat-costs@bench.test", name="Agent", role=Role.AGENT, password=None,
                        availability=Availability.ONLINE)
    widget.team.members.add(agent)
    realtime.presence_touch("agent", agent.pk, "bench")
    # The pushes leave the write together (``sends_together``) for the server's loop; here they are dropped, so
    # what is counted is the write alone, as the web process's database thread does it.
    asyncbridge.send_soon = lambda *args: None
    sessions = []
    with events_suppressed():
        for n in range(args.conversations):
            session = chat_start(widget=widget, visitor_id=visitor_id_new(), question=f"zzqx{n}", name=f"V{n}",
                                 client_ip=f"10.{n // 250}.{n % 250}.1")
            sessions.append(chat_accept(session=session, agent=agent))
    for session in sessions:
        realtime.presence_touch("visitor", session.pk, f"v{session.pk}")
    counts: Counter[str] = Counter()

    spent: Counter[str] = Counter()

    def count(execute, sql, params, many, context):
        kind = sql.lstrip().split(None, 1)[0].upper()
        counts[kind] += 1
        counts["statements"] += 1
        counts["redis, in the transaction"] += 0
        table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)', sql)
        began = time.process_time()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[f"{kind} {table.group(1) if table else ''}".strip()] += time.process_time() - began

    def rounds(first: int, last: int):
        for r in range(first, last):
            for side in ("visitor", "agent"):
                writes = [VisitorMessage(session_id=s.pk, text=f"Message {r} of {n}", client_id=f"m{r}",
                                         client_ip=f"10.{n // 250}.{n % 250}.1") if side == "visitor" else
                          AgentReply(session_id=s.pk, agent=agent, text=f"Answer {r} to {n}", client_id=f"r{r}")
                          for n, s in enumerate(sessions)]
                yield writes

    # One round first, uncounted: the first reply of each chat opens its ticket (a status move once per chat).
    for writes in rounds(0, 1):
        for start in range(0, len(writes), args.group):
            messages_write(writes=writes[start:start + args.group])
    if args.redis_url:  # Redis commands sent while a transaction is open (each holds SQLite's writers' turn)
        import redis

        real_execute = redis.Redis.execute_command

        def execute_command(self, *command, **options):
            counts["redis, in the transaction" if connection.in_atomic_block else "redis, outside"] += 1
            return real_execute(self, *command, **options)

        redis.Redis.execute_command = execute_command
    profile = cProfile.Profile() if args.profile else None
    written, refused, cpu = 0, 0, 0.0
    with connection.execute_wrapper(count):
        for writes in rounds(1, 1 + args.rounds):
            for start in range(0, len(writes), args.group):
                group = writes[start:start + args.group]
                began = time.process_time()
                if profile:
                    profile.enable()
                outcomes = messages_write(writes=group)
                if profile:
                    profile.disable()
                cpu += time.process_time() - began
                refused += sum(isinstance(o, Exception) for o in outcomes)
                written += len(group)
    per = {kind: round(n / written, 2) for kind, n in sorted(counts.items())}
    print(f"messages written: {written} (refused {refused}), group {args.group}")
    print(f"statements per message: {per}")
    print(f"CPU ms per message: {1000 * cpu / written:.3f}")
    print("CPU ms per message in the statements (the database's own work):",
          {k: round(1000 * v / written, 3) for k, v in spent.most_common()})
    if profile:
        profile.dump_stats(args.profile)
        stats = pstats.Stats(args.profile)
        print(f"function calls per message: {stats.total_calls / written:.0f}")
        stats.sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
