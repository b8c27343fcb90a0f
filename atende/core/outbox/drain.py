"""Run every subscriber and every due job until nothing is left (``atende events drain``, tests, benchmarks)."""

from __future__ import annotations

import threading
import time

from django.utils import timezone

from atende.core.models import EventRetry, EventRetryState
from atende.core.outbox import rounds
from atende.core.outbox.worker import default_worker_id, tasks_pending, tasks_run_due

_inline = threading.local()


def drain(*, owner: str | None = None, jobs: bool = True, timeout: float | None = None) -> dict[str, int]:
    """Pass over every unit and run due tasks until a pass finds nothing to do. Events waiting for a retry that is
    not due yet are left (counted in ``waiting``). Returns what was done."""
    owner = owner or default_worker_id("drain")
    started = time.monotonic()
    totals = {"events": 0, "tasks": 0, "passes": 0}
    while timeout is None or time.monotonic() - started < timeout:
        events = rounds.pass_all(owner)
        tasks = 0
        if jobs:
            while (ran := tasks_run_due(owner, limit=500, seconds=5.0)):
                tasks += ran
        totals["events"] += events
        totals["tasks"] += tasks
        totals["passes"] += 1
        if not events and not tasks and not (jobs and tasks_pending()):
            break
    totals["waiting"] = EventRetry.objects.filter(state=EventRetryState.WAITING).count()
    totals["due_waiting"] = EventRetry.objects.filter(state=EventRetryState.WAITING,
                                                      next_attempt_at__lte=timezone.now()).count()
    totals["parked"] = EventRetry.objects.filter(state=EventRetryState.PARKED).count()
    return totals


def drain_inline() -> None:
    """``ATENDE_EVENTS_DRAIN_ON_COMMIT`` (tests): drain right after a commit; re-entrant calls (events the
    subscribers record while draining) are picked up by the running drain."""
    if getattr(_inline, "running", False):
        _inline.again = True
        return
    _inline.running = True
    try:
        _inline.again = True
        while _inline.again:
            _inline.again = False
            drain(owner="inline", jobs=False)
    finally:
        _inline.running = False
