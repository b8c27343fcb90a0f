#!/usr/bin/env python
"""Drain throughput of the outbound delivery engine: N mails to a real SMTP server (aiosmtpd) and N webhook
calls to a real HTTP receiver, both on loopback, sent by ``deliveries_drain`` (50 claimed at a time).

    .venv/bin/python bench/outbound_drain.py --count 1000            # SQLite in a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/atende_bench_outbound .venv/bin/python bench/outbound_drain.py

Prints JSON: queueing seconds, then per transport the drain's seconds and deliveries/s, and the database.

``--profile PREFIX`` counts instead of timing (deterministic): N mails and N webhook calls of one subscription are
queued by ``deliveries_enqueue`` 25 at a time (an events batch), then sent by ``deliveries_send`` 50 ids at a time
(the worker's send task), one transport after the other (after one of each, not counted, so that what a
long-running worker does once stays out), each phase under cProfile (``PREFIX.<phase>.prof``) with
its statements counted. Results are recorded once per claimed batch (``RECORD_EVERY`` set out of reach), so the
counts do not depend on the machine's speed. Prints function calls, statements (by kind) and write transactions
per delivery for each phase.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Removed when the run ends (a finalizer of the process), like the chat load's scratch desk.
_SCRATCH = tempfile.TemporaryDirectory(prefix="atende-outbound-bench-")
TMP = _SCRATCH.name
os.environ.setdefault("DATABASE_URL", f"sqlite:///{TMP}/bench.sqlite3")
os.environ.update({"DJANGO_SETTINGS_MODULE": "atende.config.settings.dev", "ATENDE_VAR_DIR": TMP, "DEBUG": "0",
                   "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1"})


class Receiver(BaseHTTPRequestHandler):
    count = 0

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Receiver.count += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


class Smtp:
    count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        Smtp.count += 1
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--profile", metavar="PREFIX", help="count calls and statements per delivery instead")
    args = parser.parse_args()
    from aiosmtpd.controller import Controller

    from atende.email_channel.tests.servers import free_port

    smtp_port = free_port()
    os.environ["EMAIL_PORT"] = str(smtp_port)
    controller = Controller(Smtp(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    http = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=http.serve_forever, daemon=True).start()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Count

    call_command("migrate", verbosity=0)
    from atende.email_channel.services import mail_queue
    from atende.integrations.services import webhook_deliver_adhoc
    from atende.outbound.models import Delivery
    from atende.outbound.services import deliveries_drain

    Delivery.objects.all().delete()
    if args.profile:
        result = profile(args, url=f"http://127.0.0.1:{http.server_port}/hook")
        print(json.dumps(result, indent=2))
        controller.stop()
        http.shutdown()
        return
    started = time.perf_counter()
    with transaction.atomic():
        for i in range(args.count):
            mail_queue(to=[f"customer{i}@example.com"], subject=f"Ticket {i}", body_text="Hello " * 50)
        url = f"http://127.0.0.1:{http.server_port}/hook"
        for i in range(args.count):
            webhook_deliver_adhoc(url=url, payload={"ticket": {"id": i}}, secret="s3cret")
    queued = time.perf_counter() - started
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()  # only the drain sends here
    result = {"database": connection.vendor, "count_per_transport": args.count, "queue_seconds": round(queued, 2),
              "load_average_start": os.getloadavg()}
    started = time.perf_counter()
    sent = 0
    while sent < 2 * args.count:
        drained = deliveries_drain()
        if not drained:
            break
        sent += drained
    elapsed = time.perf_counter() - started
    result |= {"drained": sent, "drain_seconds": round(elapsed, 2), "deliveries_per_second": round(sent / elapsed, 1),
               "smtp_received": Smtp.count, "http_received": Receiver.count,
               "statuses": dict(Delivery.objects.values_list("status").annotate(n=Count("id")).order_by()),
               "load_average_end": os.getloadavg()}
    print(json.dumps(result, indent=2))
    controller.stop()
    http.shutdown()


def profile(args, *, url: str) -> dict:
    from collections import Counter

    from django.db import connection, transaction
    from django.db.models import Count

    from atende.core.memo import batch_scope
    from atende.email_channel.services.outbound import _delivery_spec
    from atende.integrations.models import WebhookSubscription
    from atende.outbound.models import Delivery
    from atende.outbound.services import deliveries_enqueue, deliveries_send, send

    send.RECORD_EVERY = float("inf")  # one recording per claimed batch, whatever the machine's speed
    hook = WebhookSubscription.objects.create(name="bench", url=url, secret="s3cret", event_types=["*"])
    n = args.count
    mails = [_delivery_spec(dead=set(), to=[f"customer{i}@example.com"], subject=f"Re: Ticket {i}",
                            body_text="Hello " * 50, kind="ticket_reply", dedupe_key=f"{i}:mail:customer{i}")
             for i in range(n)]
    hooks = [{"transport": "webhook", "target": url, "kind": "ticket.updated", "key": f"{i}:webhook:{hook.pk}",
              "source": f"webhook:{hook.pk}", "event_id": i, "ticket_id": None,
              "payload": {"subscription_id": hook.pk, "body": {
                  "schema_version": 1, "event": "ticket.updated", "event_id": i,
                  "ticket": {"id": i, "number": i, "subject": f"Ticket {i}", "status": "open"}}}}
             for i in range(n)]
    counts: dict[str, Counter] = {}
    phase = [None]

    def count(execute, sql, params, many, context):
        if phase[0]:
            kind = sql.lstrip().split(None, 1)[0].upper()
            c = counts[phase[0]]
            c[kind] += 1
            c["statements"] += 1
            # Turns of SQLite's writers' lock: transactions begun, and writes outside any (each its own).
            c["write_transactions"] += kind == "BEGIN" or (kind in ("INSERT", "UPDATE", "DELETE")
                                                           and not connection.in_atomic_block)
        return execute(sql, params, many, context)

    def run(name, work):
        counts[name], phase[0] = Counter(), name
        prof = cProfile.Profile()
        prof.enable()
        work()
        prof.disable()
        phase[0] = None
        path = f"{args.profile}.{name}.prof"
        prof.dump_stats(path)
        calls = pstats.Stats(path).total_calls
        return {"function_calls_per_delivery": round(calls / n, 1),
                **{f"{k}_per_delivery": round(v / n, 3) for k, v in sorted(counts[name].items())}}

    def enqueue(items):
        def work():
            for start in range(0, n, 25):
                with transaction.atomic(), batch_scope():
                    deliveries_enqueue(items[start:start + 25])
        return work

    def drain(transport):
        def work():
            ids = list(Delivery.objects.filter(transport=transport).order_by("id").values_list("pk", flat=True))
            for start in range(0, n, 50):
                deliveries_send(delivery_ids=ids[start:start + 50])
        return work

    # One of each first, not counted: imports and SQL compiled once per process stay out of the counts.
    warm = deliveries_enqueue([{**mails[0], "key": "warm:mail"}, {**hooks[0], "key": "warm:webhook"}])
    deliveries_send(delivery_ids=[row.pk for row in warm])
    Delivery.objects.filter(pk__in=[row.pk for row in warm]).delete()
    Smtp.count = Receiver.count = 0
    out = {"database": connection.vendor, "count_per_transport": n}
    with connection.execute_wrapper(count):
        out["enqueue_mail"] = run("enqueue_mail", enqueue(mails))
        out["enqueue_webhook"] = run("enqueue_webhook", enqueue(hooks))
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.objects.all().delete()
        out["send_mail"] = run("send_mail", drain("mail"))
        out["send_webhook"] = run("send_webhook", drain("webhook"))
    out |= {"smtp_received": Smtp.count, "http_received": Receiver.count,
            "statuses": dict(Delivery.objects.values_list("status").annotate(n=Count("id")).order_by())}
    return out


if __name__ == "__main__":
    main()
