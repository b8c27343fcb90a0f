#!/usr/bin/env python
"""Drain throughput of the outbound delivery engine: N mails to a real SMTP server (aiosmtpd) and N webhook
calls to a real HTTP receiver, both on loopback, sent by ``deliveries_drain`` (50 claimed at a time).

    .venv/bin/python bench/outbound_drain.py --count 1000            # SQLite in a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/atende_bench_outbound .venv/bin/python bench/outbound_drain.py

Prints JSON: queueing seconds, then per transport the drain's seconds and deliveries/s, and the database.
"""

from __future__ import annotations

import argparse
import json
import os
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


if __name__ == "__main__":
    main()
