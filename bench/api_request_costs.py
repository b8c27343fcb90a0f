#!/usr/bin/env python
"""Where a ``POST /api/v1/tickets`` request's Python calls go outside ``ticket_create``, deterministically.

- ``asgi``: the request through the ASGI application (``atende.config.asgi``, as uvicorn calls it), counted on
  the event loop and in the request's thread, with the threads started per request;
- ``stages``: the request through Django's test client, every call attributed to the innermost stage it runs in
  (each middleware, the token look-up, the throttle, input parsing, the view, ``ticket_create``, the response).

    PYTHONPATH=<tree> .venv/bin/python bench/api_request_costs.py --db <copy of the bench desk> [--requests 40]

Runs on a scratch copy of the database (``create_costs.setup``). Compare two trees by running it from each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import create_costs  # noqa: E402

STAGES = [  # (file suffix, function, stage); the innermost one on the stack wins
    ("django/core/handlers/base.py", "_get_response", "url resolution + view call"),
    ("ninja/operation.py", "run", "django-ninja (other)"),
    ("ninja/operation.py", "_run_authentication", "auth: django-ninja"),
    ("atende/api/auth.py", "authenticate", "auth: token look-up"),
    ("atende/api/auth.py", "_count_request", "throttle"),
    ("ninja/operation.py", "_get_values", "input parsing + validation"),
    ("ninja/operation.py", "_result_to_response", "response validation + JSON"),
    ("atende/api/routers/tickets.py", "ticket_open", "view (requester look-up, references)"),
    ("atende/api/routers/ticket_schemas.py", "ticket_json", "view: ticket_json"),
    ("atende/tickets/services/create.py", "ticket_create", "ticket_create"),
]


def stages(client, post, n: int) -> Counter:
    from django.conf import settings

    marks = list(STAGES)
    for dotted in ["querycount.QueryCountMiddleware", *settings.MIDDLEWARE]:
        module, name = dotted.rsplit(".", 1)
        for method in ("__call__", "process_request", "process_response", "process_view", "process_exception"):
            marks.append((module.replace(".", "/") + ".py", method, f"middleware {name}"))
    marks += [("django/utils/deprecation.py", "__call__", "middleware glue"),
              ("django/core/handlers/exception.py", "inner", "middleware glue")]
    labels: dict = {}

    def label(code):
        if code not in labels:
            labels[code] = next((stage for suffix, fn, stage in reversed(marks)
                                 if code.co_name == fn and code.co_filename.endswith(suffix)), None)
        return labels[code]

    counts: Counter = Counter()
    stack, frames = ["test client and the rest"], []

    def profile(frame, event, arg):
        if event == "call":
            if (stage := label(frame.f_code)) is not None:
                stack.append(stage)
                frames.append(frame)
            counts[stack[-1]] += 1
        elif event == "c_call":
            counts[stack[-1]] += 1
        elif event == "return" and frames and frames[-1] is frame:
            frames.pop()
            stack.pop()

    sys.setprofile(profile)
    try:
        for i in range(n):
            post(i)
    finally:
        sys.setprofile(None)
    return counts


def asgi(secret: str, emails: list[str], n: int) -> dict:
    from django.db import connections

    from atende.config.asgi import application, django_asgi_app

    connections.close_all()
    counts: Counter = Counter()

    def profile(frame, event, arg):
        if event in ("call", "c_call"):
            counts["loop" if threading.current_thread() is threading.main_thread() else "thread"] += 1

    async def one(i: int) -> None:
        body = json.dumps({"subject": "Export fails", "body": f"Order {i}.", "requester_email": emails[i % len(emails)]})
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/api/v1/tickets", "raw_path": b"/api/v1/tickets", "query_string": b"",
                 "root_path": "", "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
                 "headers": [(b"host", b"localhost"), (b"content-type", b"application/json"),
                             (b"authorization", f"Bearer {secret}".encode()),
                             (b"content-length", str(len(body)).encode())]}
        incoming = [{"type": "http.request", "body": body.encode(), "more_body": False}]
        sent = []

        async def receive():
            if incoming:
                return incoming.pop()
            await asyncio.sleep(3600)

        async def send(message):
            sent.append(message)

        await application(scope, receive, send)
        assert sent[0]["status"] == 201, sent

    async def run() -> dict:
        for i in range(5):
            await one(i)
        started = Counter()
        real_start = threading.Thread.start

        def start(thread):
            started["threads"] += 1
            return real_start(thread)

        kept = list(getattr(getattr(django_asgi_app, "threads", None), "idle", []))
        threading.Thread.start = start
        threading.setprofile(profile)
        sys.setprofile(profile)
        for executor in kept:  # threads kept between requests were started before the profile was set
            executor.submit(sys.setprofile, profile).result()
        try:
            for i in range(n):
                await one(100 + i)
        finally:
            sys.setprofile(None)
            threading.setprofile(None)
            threading.Thread.start = real_start
            for executor in kept:
                executor.submit(sys.setprofile, None).result()
        return {"calls": round(sum(counts.values()) / n), "event_loop": round(counts["loop"] / n),
                "request_thread": round(counts["thread"] / n), "threads_started": started["threads"] / n}

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench/var/atende-20000.sqlite3", help="benchmark SQLite database to copy")
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    create_costs.setup(args.db)
    from django.test import Client

    from atende.accounts.models import User
    from atende.api.services import api_token_create
    from atende.core.actor import Actor

    customers = [u.email for u in User.objects.filter(role="customer", is_active=True, email__isnull=False)
                 .order_by("id")[:200]]
    agent = User.objects.filter(role__in=["agent", "admin"], is_active=True).order_by("id").first()
    _row, secret = api_token_create(actor=Actor.for_user(agent), user=agent, name="costs", scope="write")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def post(i: int) -> None:
        response = client.post("/api/v1/tickets", {"subject": "Export fails", "body": f"Order {i}.",
                                                   "requester_email": customers[i % len(customers)]},
                               content_type="application/json")
        assert response.status_code == 201, response.content[:300]

    for i in range(5):
        post(i)
    n = args.requests
    counts = stages(client, lambda i: post(1000 + i), n)
    total = sum(counts.values())
    print(f"test client: {total / n:.0f} calls per request, {(total - counts['ticket_create']) / n:.0f} outside "
          "ticket_create")
    for stage, value in counts.most_common():
        print(f"  {value / n:7.0f}  {stage}")
    print("ASGI:", json.dumps(asgi(secret, customers, n)))


if __name__ == "__main__":
    main()
