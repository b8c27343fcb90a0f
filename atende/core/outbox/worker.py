"""The worker: event subscribers (the dispatcher) and the background jobs that stay on the task queue.

One loop per process: a pass over every (subscriber, partition) unit whose lease it can take, then a few due
tasks of the django-tasks database backend, then, every few seconds, a heartbeat and the task reaper. Any number
of workers can run on PostgreSQL: units are shared out by their leases (a worker that dies loses its leases when
they expire, ``ATENDE_EVENTS_LEASE_SECONDS``) and tasks by the backend's row locks. On SQLite run one.

SIGTERM/SIGINT finish the current batch or task, release the leases and exit.

The task reaper: a task marked RUNNING by a worker that stopped sending heartbeats (killed, the machine lost) would
stay RUNNING for ever in the database backend; once the worker's heartbeat is older than the lease, the task is
made READY again and runs once more (tasks are idempotent). A task of a worker that never sent heartbeats (a
plain ``db_worker``) is reset after ``ATENDE_TASKS_LEASE_SECONDS``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import threading
import time

from django.db import close_old_connections, connection, transaction
from django.db.utils import OperationalError
from django.utils import timezone

from atende.core.models import WorkerHeartbeat
from atende.core.outbox import dispatch, rounds

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
# How long a pass goes on with rounds of batches while the units' batches stop short of the stream's end (a backlog)
# before it ends (due tasks, a fresh plan): a lease claim and release per 20-event batch (SQLite's batch size) cost
# as much as the subscribers' work on it.
PASS_SLICE_SECONDS = 0.25


# How often an idle worker looks for a commit by another connection (``EventsWorker.wait_for_change``): it starts
# on new events within this, not after its whole idle interval. SQLite reads a counter in shared memory; on
# PostgreSQL it is a query to the server, so less often.
WAKE_POLL_SECONDS = {"sqlite": 0.01, "postgresql": 0.05}
# After a commit wakes it, the worker lets the burst that commit belongs to gather this long: a stream of
# one-ticket commits is then handled in batches, not in a pass each (a pass reads every unit's position, and on
# SQLite its writes take turns with the requests creating the tickets).
GATHER_SECONDS = float(os.environ.get("ATENDE_EVENTS_GATHER_SECONDS", "0.05"))


def _change_mark() -> object:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA data_version")
        else:
            cursor.execute(f"SELECT max(id) FROM {dispatch.event_model()._meta.db_table}")
        return cursor.fetchone()[0]


def default_worker_id(prefix: str = "worker") -> str:
    return f"{prefix}-{socket.gethostname()}-{os.getpid()}"


def _db_backend() -> bool:
    from django.conf import settings

    return settings.TASKS.get("default", {}).get("BACKEND", "").startswith("django_tasks_db")


def tasks_run_due(worker_id: str, *, limit: int = 200, seconds: float = 1.0) -> int:
    """Run READY tasks of the database backend (each claimed under its row lock), up to ``limit`` of them or for
    about ``seconds``, so the event batches get their turn too."""
    if not _db_backend():
        return 0
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import exclusive_transaction

    runner = Worker(queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
                    max_tasks=None, worker_id=worker_id, excluded_queue_names=[])
    done = 0
    started = time.monotonic()
    for _ in range(limit):
        if time.monotonic() - started > seconds:
            return done
        tasks = DBTaskResult.objects.ready().filter(backend_name="default")
        try:
            with exclusive_transaction(tasks.db):
                found = tasks.get_locked()
                if found is not None:
                    found.claim(worker_id)
        except OperationalError:
            return done  # the database is busy: next loop
        if found is None:
            return done
        runner.run_task(found)
        done += 1
    return done


def tasks_pending() -> int:
    if not _db_backend():
        return 0
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.ready().count()


def heartbeat(worker_id: str, started_at: dt.datetime) -> None:
    WorkerHeartbeat.objects.update_or_create(worker_id=worker_id,
                                             defaults={"seen_at": timezone.now(), "started_at": started_at})


def tasks_reap(*, now: dt.datetime | None = None) -> int:
    """Make READY again the RUNNING tasks whose worker is gone. Returns how many."""
    if not _db_backend():
        return 0
    from django.conf import settings
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    lease = dt.timedelta(seconds=float(getattr(settings, "ATENDE_EVENTS_LEASE_SECONDS", 15)))
    silent_after = dt.timedelta(seconds=float(getattr(settings, "ATENDE_TASKS_LEASE_SECONDS", 600)))
    beats = dict(WorkerHeartbeat.objects.values_list("worker_id", "seen_at"))
    stale = []
    for pk, worker_ids, started_at in DBTaskResult.objects.running().values_list("id", "worker_ids", "started_at"):
        owner = (worker_ids or [""])[-1]
        seen = beats.get(owner)
        gone = (now - seen > lease) if seen is not None else (started_at is None or now - started_at > silent_after)
        if gone:
            stale.append(pk)
    if stale:
        with transaction.atomic():
            reset = DBTaskResult.objects.running().filter(id__in=stale).update(status="READY", started_at=None)
        logger.warning("task reaper: %d task(s) of stopped workers made ready again", reset)
        WorkerHeartbeat.objects.filter(seen_at__lt=now - lease * 20).delete()
        return reset
    return 0


class EventsWorker:
    """The worker loop. ``stop_event`` ends it after the current batch (set by SIGTERM, or by the web process
    that embeds it)."""

    def __init__(self, *, worker_id: str | None = None, interval: float = 0.5, jobs: bool = True,
                 stop_event: threading.Event | None = None, keep_leases: bool | None = None):
        self.worker_id = worker_id or default_worker_id()
        self.interval = interval
        self.jobs = jobs
        self.stop_event = stop_event or threading.Event()
        self.started_at = timezone.now()
        self._last_beat = 0.0
        # On SQLite (one worker) a unit's lease is kept from pass to pass and renewed by its batches, instead of a
        # claim and a release (two write transactions) per unit per pass; on PostgreSQL leases go back after
        # each slice, so that other workers share the units.
        self.keep_leases = (connection.vendor == "sqlite") if keep_leases is None else keep_leases
        self._held: dict[dispatch.Unit, float] = {}
        self._mark: object = None  # the change mark read before the current pass (``wait_for_change``)

    def install_signals(self) -> None:
        def stop(signum, _frame):
            logger.info("worker %s: %s received, finishing the current batch", self.worker_id,
                        signal.Signals(signum).name)
            self.stop_event.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def tick(self) -> int:
        """One pass: every unit whose lease this worker has or takes (``rounds.pass_run``: planned first, the
        batches in one write transaction on SQLite), then a few due tasks. Returns the work done."""
        now = time.monotonic()
        if now - self._last_beat >= HEARTBEAT_SECONDS:
            self._last_beat = now
            heartbeat(self.worker_id, self.started_at)
            tasks_reap()
        done = 0
        with dispatch.rows_shared():
            held = [work for work in rounds.work_plan() if not self.stop_event.is_set() and self._claim(work)]
            try:
                outcome = rounds.pass_run(held, self.worker_id, seconds=PASS_SLICE_SECONDS,
                                          stop=self.stop_event.is_set)
            finally:
                if not self.keep_leases:
                    rounds.lease_release_many([work.unit for work in held], self.worker_id)
            done += outcome.passed
            for unit in outcome.lost:
                self._held.pop(unit, None)  # claimed again at the next pass (or left to the worker that has it)
        if self.jobs and not self.stop_event.is_set():
            done += tasks_run_due(self.worker_id)
        return done

    def _claim(self, work: rounds.Work) -> bool:
        """Take the unit's lease, unless this worker keeps leases and took it less than half a lease ago (its
        batches renew it, and each checks it is still this worker's, so a lease lost meanwhile only costs a
        pass). The cursor read for the pass gets the lease taken."""
        unit, now = work.unit, time.monotonic()
        if self.keep_leases and self._held.get(unit, 0.0) > now:
            return True
        if not dispatch.lease_claim(unit, self.worker_id, cursor=work.cursor):
            self._held.pop(unit, None)
            return False
        if self.keep_leases:
            self._held[unit] = now + float(dispatch.option("ATENDE_EVENTS_LEASE_SECONDS", 15)) / 2
        return True

    def wait_for_change(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for another connection to commit (a new event, a queued task) or for the stop
        signal, looking every ``WAKE_POLL_SECONDS``. True when something changed. SQLite: ``PRAGMA data_version``
        changes with every other connection's commit, read from memory; PostgreSQL: the newest event id."""
        deadline, poll = time.monotonic() + seconds, WAKE_POLL_SECONDS.get(connection.vendor, 0.05)
        before, self._mark = self._mark, None  # taken before the pass that found nothing: a commit during it counts
        try:
            before = _change_mark() if before is None else before
        except OperationalError:
            self.stop_event.wait(seconds)
            return False
        while not self.stop_event.wait(min(poll, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                return False
            try:
                if _change_mark() != before:
                    return True
            except OperationalError:
                continue
        return False

    def run(self) -> None:
        logger.info("events worker %s started", self.worker_id)
        try:
            while not self.stop_event.is_set():
                close_old_connections()
                try:
                    self._mark = _change_mark()
                    done = self.tick()
                except OperationalError:
                    logger.warning("worker %s: database busy, retrying", self.worker_id, exc_info=True)
                    done = 0
                if not done and self.wait_for_change(self.interval):
                    self.stop_event.wait(GATHER_SECONDS)
        finally:
            for unit in dispatch.units():
                try:
                    dispatch.lease_release(unit, self.worker_id)
                except Exception:  # noqa: BLE001 - leaving: an unreleased lease just expires
                    logger.debug("could not release %s", unit, exc_info=True)
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
            close_old_connections()
            logger.info("events worker %s stopped", self.worker_id)
