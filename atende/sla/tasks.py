"""SLA tasks: every ticket event updates that ticket's clocks; a minute job records warnings and breaches."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from atende.sla.services.clocks import sla_check_due, sla_handle_event


@task()
def sla_on_event_task(payload: dict[str, Any]) -> None:
    sla_handle_event(payload=payload)


@task()
def sla_check_due_task() -> dict[str, int]:
    return sla_check_due()
