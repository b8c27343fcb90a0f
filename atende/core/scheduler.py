"""Periodic jobs: the scheduler process enqueues these tasks on their interval; the worker runs them.

Apps list their jobs here (dotted task path → seconds). Every job is idempotent, so a tick enqueued twice
(two schedulers, a restart) does no harm.
"""

import logging
import threading
import time

from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

PERIODIC_TASKS: dict[str, int] = {
    "atende.tickets.tasks.tickets_autoclose_task": 60,
    "atende.sla.tasks.sla_check_due_task": 60,
    "atende.automation.tasks.time_rules_run_task": 60,
    "atende.email_channel.tasks.mailboxes_fetch_task": 60,
    "atende.outbound.tasks.deliveries_drain_task": 60,
    "atende.reports.tasks.rollups_refresh_task": 60,
    "atende.reports.tasks.report_schedules_send_task": 60,
    "atende.core.tasks.task_results_prune_task": 3600,
    "atende.core.tasks.throttle_prune_task": 3600,
    "atende.triage.tasks.triage_retrain_task": 3600,
}


def due_jobs(last_run: dict[str, float], now: float) -> list[str]:
    return [path for path, every in PERIODIC_TASKS.items() if now - last_run.get(path, 0.0) >= every]


def run_forever(*, tick_seconds: float = 5.0, once: bool = False, stop_event: threading.Event | None = None) -> None:
    last_run: dict[str, float] = {}
    while stop_event is None or not stop_event.is_set():
        now = time.monotonic()
        for path in due_jobs(last_run, now):
            last_run[path] = now
            try:
                import_string(path).enqueue()
            except Exception:
                logger.exception("could not enqueue periodic %s", path)
        if once:
            return
        if stop_event is not None:
            stop_event.wait(tick_seconds)
        else:
            time.sleep(tick_seconds)
