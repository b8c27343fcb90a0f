"""The worker as a real process: it takes over the units and tasks a killed worker left (once the lease expires),
and SIGTERM makes it finish and exit, leases released."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from atende.core.testing.migrated import migrated_database
from atende.core.testing.server import ROOT
from atende.core.tests.test_outbox_faults import own_database_url

pytestmark = [pytest.mark.slow]

# What a worker killed with SIGKILL leaves behind: its lease on every unit (expiring in 3 s), a task it had claimed
# (RUNNING), its last heartbeat; and a ticket whose events nobody has handled yet.
LEFT_BEHIND = """
import django, datetime
django.setup()
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from atende.core.models import SubscriberCursor, WorkerHeartbeat
from atende.core.outbox import dispatch
from atende.core.tasks import throttle_prune_task
from atende.tickets.tests.factories import make_ticket
dispatch.cursors_ensure()
now = timezone.now()
SubscriberCursor.objects.update(lease_owner="dead-worker", lease_until=now + datetime.timedelta(seconds=3))
WorkerHeartbeat.objects.create(worker_id="dead-worker", started_at=now, seen_at=now - datetime.timedelta(seconds=1))
result = throttle_prune_task.enqueue()
DBTaskResult.objects.filter(id=result.id).update(status="RUNNING", started_at=now, worker_ids=["dead-worker"])
make_ticket(subject="Left behind")
print(result.id)
"""

STATE = """
import django, json
django.setup()
from django_tasks_db.models import DBTaskResult
from atende.core.models import SubscriberCursor, WorkerHeartbeat
from atende.sla.models import SlaClock
from atende.tickets.models import TicketEvent
last = TicketEvent.objects.order_by("-id").values_list("id", flat=True).first()
task = DBTaskResult.objects.get(id=%(task)r)
live = WorkerHeartbeat.objects.exclude(worker_id="dead-worker").order_by("started_at").first()
# How long after the new worker started the dead one's task was done again (the database's clock, not this poll's).
took = (task.finished_at - live.started_at).total_seconds() if task.finished_at and live else None
print(json.dumps({"cursors": list(SubscriberCursor.objects.values_list("subscriber", "position", "lease_owner")),
                  "last": last, "task": task.status, "took": took,
                  "beats": list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)),
                  "clocks": SlaClock.objects.count()}))
"""

POLICY = """
import django
django.setup()
from atende.sla.services.definitions import policy_save
policy_save(name="All", conditions={}, first_reply_minutes=60, resolution_minutes=600, business_hours=False)
"""


def _state(env, task_id):
    out = subprocess.run([sys.executable, "-c", STATE % {"task": task_id}], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=240).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_a_worker_takes_over_what_a_killed_one_left_then_stops_cleanly_on_sigterm(workdir):
    tmp_path = workdir
    url, drop = own_database_url(tmp_path)  # SQLite, or a PostgreSQL database of its own when the suite runs there
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env |= {"DJANGO_SETTINGS_MODULE": "atende.config.settings.dev", "DEBUG": "0", "REDIS_URL": "",
            "DATABASE_URL": url, "ATENDE_VAR_DIR": str(tmp_path),
            "SECRET_KEY": "worker-test", "EVENTS_LEASE_SECONDS": "3",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    python = sys.executable
    try:
        _takeover_then_sigterm(env, python, tmp_path)
    finally:
        drop()


def _takeover_then_sigterm(env, python, tmp_path):
    migrated_database(env)
    subprocess.run([python, "-c", POLICY], env=env, cwd=ROOT, check=True, timeout=240)
    task_id = subprocess.run([python, "-c", LEFT_BEHIND], env=env, cwd=ROOT, check=True, capture_output=True,
                             text=True, timeout=240).stdout.strip().splitlines()[-1]
    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen([python, "-m", "atende", "events", "work", "--interval", "0.2"], env=env, cwd=ROOT,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        started = time.monotonic()
        while time.monotonic() - started < 240:  # polls are processes: slow on a loaded machine
            state = _state(env, task_id)
            if all(pos == state["last"] for _s, pos, _o in state["cursors"]) and state["task"] == "SUCCESSFUL":
                break
            time.sleep(0.5)
        assert all(pos == state["last"] for _s, pos, _o in state["cursors"]), state
        assert state["task"] == "SUCCESSFUL"  # the dead worker's RUNNING task was run again
        assert state["clocks"] == 2  # first reply and resolution: SLA ran once for the ticket
        assert state["took"] is not None and state["took"] < 30, state  # the 3 s lease, then the next reaper pass
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        log.close()
    state = _state(env, task_id)
    assert {owner for _s, _p, owner in state["cursors"]} == {""}  # leases released on the way out
    assert not [b for b in state["beats"] if b != "dead-worker"]
    assert "stopped" in (tmp_path / "worker.log").read_text()
