"""Leases on the jobs that stay on the task queue, and what SIGTERM means for a worker, in-process.

The task reaper makes a task RUNNING under a worker that is gone READY again (its heartbeat older than the lease,
or, for a worker that never sent one, the task older than ``ATENDE_TASKS_LEASE_SECONDS``) and leaves a live
worker's task alone. A stop request (what SIGTERM sets) lets the batch being handled commit, then the loop ends
with its leases released. The real-process versions are in test_outbox_worker.py."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from atende.core import events
from atende.core.models import SubscriberCursor, WorkerHeartbeat
from atende.core.outbox import dispatch
from atende.core.outbox.worker import EventsWorker, tasks_reap
from atende.core.testing import subscribers as recorder
from atende.tickets.models import TicketEvent
from atende.tickets.tests.factories import make_ticket

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "mail"]}}


@pytest.fixture
def db_tasks(settings):
    settings.TASKS = DB_TASKS
    settings.ATENDE_EVENTS_LEASE_SECONDS = 15
    settings.ATENDE_TASKS_LEASE_SECONDS = 600


def running_task(owner: str, started_at: dt.datetime) -> DBTaskResult:
    return DBTaskResult.objects.create(status="RUNNING", args_kwargs={"args": [], "kwargs": {}},
                                       task_path="atende.core.tasks.throttle_prune_task", backend_name="default",
                                       queue_name="default", run_after=started_at, started_at=started_at,
                                       worker_ids=[owner])


@pytest.mark.django_db
def test_a_task_of_a_worker_whose_heartbeat_stopped_is_made_ready_again(db_tasks):
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker_id="gone", started_at=now - dt.timedelta(minutes=5),
                                   seen_at=now - dt.timedelta(seconds=16))
    WorkerHeartbeat.objects.create(worker_id="alive", started_at=now - dt.timedelta(minutes=5),
                                   seen_at=now - dt.timedelta(seconds=1))
    orphan = running_task("gone", now - dt.timedelta(seconds=20))
    # A long task of a live worker: far older than any lease, but its worker still beats.
    long_running = running_task("alive", now - dt.timedelta(hours=2))

    assert tasks_reap(now=now) == 1

    orphan.refresh_from_db()
    long_running.refresh_from_db()
    assert (orphan.status, orphan.started_at) == ("READY", None)
    assert long_running.status == "RUNNING"
    assert DBTaskResult.objects.ready().filter(pk=orphan.pk).exists()  # a worker will claim it again


@pytest.mark.django_db
def test_a_task_within_the_lease_is_left_running(db_tasks):
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker_id="slow-beat", started_at=now, seen_at=now - dt.timedelta(seconds=14))
    task = running_task("slow-beat", now - dt.timedelta(seconds=30))

    assert tasks_reap(now=now) == 0
    assert tasks_reap(now=now + dt.timedelta(seconds=2)) == 1  # one more second than the lease without a beat

    task.refresh_from_db()
    assert task.status == "READY"


@pytest.mark.django_db
def test_a_task_of_a_worker_without_heartbeats_waits_for_the_task_lease(db_tasks):
    """``db_worker`` (django-tasks' own command) sends no heartbeat: its task is reset after the task lease only."""
    now = timezone.now()
    recent = running_task("db-worker-1", now - dt.timedelta(seconds=599))
    stale = running_task("db-worker-2", now - dt.timedelta(seconds=601))

    assert tasks_reap(now=now) == 1

    recent.refresh_from_db()
    stale.refresh_from_db()
    assert (recent.status, stale.status) == ("RUNNING", "READY")


STOPPER = events.Subscriber("stopper", "atende.core.tests.test_outbox_leases.stop_while_handling")
_worker: list[EventsWorker] = []


def stop_while_handling(batch):
    """Records the batch, as a subscriber's effect, and asks the worker to stop while the batch is open."""
    recorder._handle("stopper", batch)
    _worker[0].stop_event.set()


@pytest.mark.django_db(transaction=True)
def test_a_stop_request_lets_the_open_batch_commit_then_the_worker_exits(settings, monkeypatch, customer):
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    monkeypatch.setattr(events, "SUBSCRIBERS", (STOPPER,))
    monkeypatch.setattr(dispatch, "SUBSCRIBERS", (STOPPER,))
    recorder.reset()
    make_ticket(requester=customer)
    make_ticket(requester=customer)
    live = list(TicketEvent.objects.filter(backfill=False).order_by("id").values_list("id", flat=True))
    worker = EventsWorker(worker_id="stopping", interval=0.05, jobs=False)
    _worker[:] = [worker]
    try:
        thread = threading.Thread(target=worker.run)
        thread.start()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the worker did not stop after its batch"
    finally:
        _worker.clear()

    assert recorder.effects("stopper") == live  # the batch in hand when the stop came was handled in full
    cursor = SubscriberCursor.objects.get(subscriber="stopper")
    assert cursor.position == live[-1]  # and committed with its cursor
    assert cursor.lease_owner == "" and not WorkerHeartbeat.objects.filter(worker_id="stopping").exists()
    recorder.reset()
