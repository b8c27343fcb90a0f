"""Triage tasks: the ticket-event subscriber (suggestions for new tickets, agents' corrections) and the hourly
check that retrains the model at night when enough new tickets have been closed."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from atende.core.actor import Actor
from atende.triage.services import triage_retrain_if_due


@task()
def triage_retrain_task() -> dict[str, Any]:
    """Hourly (``core.scheduler``): retrains in the night hour when enough tickets were closed since the last
    model (``triage_retrain_if_due``)."""
    return triage_retrain_if_due(actor=Actor.system())
