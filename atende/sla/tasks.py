"""SLA tasks: the minute job records warnings and breaches (ticket events reach SLA through ``sla.subscribers``)."""

from __future__ import annotations

from django_tasks import task

from atende.sla.services.clocks import sla_check_due


@task()
def sla_check_due_task() -> dict[str, int]:
    return sla_check_due()
