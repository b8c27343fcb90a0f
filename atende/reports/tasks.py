"""Reports tasks: the minute job that keeps the rollups current (``core/scheduler.py``)."""

from __future__ import annotations

from django_tasks import task

from atende.reports.services import report_schedules_send_due, rollups_refresh


@task()
def rollups_refresh_task() -> dict[str, int]:
    """Recompute the buckets of tickets changed since the last run; idempotent, safe to run twice."""
    return rollups_refresh()


@task()
def report_schedules_send_task() -> int:
    """Email the scheduled reports whose time has come; idempotent (each sending moves its schedule on)."""
    return report_schedules_send_due()
