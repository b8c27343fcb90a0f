"""An idle worker starts on a new event as soon as it is committed, not after its idle interval: a real worker
process with a one-minute interval handles a ticket created by another process within seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from atende.core.testing.migrated import migrated_database
from atende.core.testing.server import ROOT
from atende.core.tests.test_outbox_faults import own_database_url

pytestmark = [pytest.mark.slow]

CREATE = """
import django
django.setup()
from atende.tickets.tests.factories import make_ticket
make_ticket(subject="Wake up")
"""

STATE = """
import django, json
django.setup()
from atende.core.models import SubscriberCursor, WorkerHeartbeat
from atende.tickets.models import TicketEvent
last = TicketEvent.objects.order_by("-id").first()
cursors = list(SubscriberCursor.objects.values_list("position", "last_batch_at"))
done = [at for position, at in cursors if last and position >= last.id]
print(json.dumps({"beats": WorkerHeartbeat.objects.count(), "cursors": len(cursors), "done": len(done),
                  "after": max((at - last.created_at).total_seconds() for at in done) if done and last else None}))
"""


def _state(env):
    out = subprocess.run([sys.executable, "-c", STATE], env=env, cwd=ROOT, check=True, capture_output=True,
                         text=True, timeout=240).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_an_idle_worker_handles_a_new_event_within_seconds_not_its_interval(workdir):
    url, drop = own_database_url(workdir)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env |= {"DJANGO_SETTINGS_MODULE": "atende.config.settings.dev", "DEBUG": "0", "REDIS_URL": "",
            "DATABASE_URL": url, "ATENDE_VAR_DIR": str(workdir), "SECRET_KEY": "wake-test",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    worker = None
    try:
        migrated_database(env)
        log = open(workdir / "worker.log", "wb")
        worker = subprocess.Popen([sys.executable, "-m", "atende", "events", "work", "--interval", "60"], env=env,
                                  cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        started = time.monotonic()
        while _state(env)["beats"] == 0:  # its first pass is done: from now on it is idle for up to a minute
            assert time.monotonic() - started < 120 and worker.poll() is None
            time.sleep(0.2)
        subprocess.run([sys.executable, "-c", CREATE], env=env, cwd=ROOT, check=True, timeout=240)
        created = time.monotonic()
        while (state := _state(env))["done"] < state["cursors"] or not state["cursors"]:
            assert time.monotonic() - created < 45, state  # an interval-long sleep would end after 60 s
            time.sleep(0.2)
        # Every subscriber handled the event within seconds of its commit (the database's clock).
        assert state["after"] is not None and state["after"] < 10, state
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=60)
        drop()
