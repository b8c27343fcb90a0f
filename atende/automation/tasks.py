"""Automation tasks: the minute job (time rules, deliveries), a new time rule's backfill, one delivery attempt.

Ticket events reach automation through its events subscriber (``automation.subscribers``)."""

from __future__ import annotations

from django_tasks import task

from atende.automation.services.time_rules import time_rule_backfill, time_rules_run


@task()
def time_rules_run_task() -> dict[str, int]:
    """Every minute: due time rules (their emails and webhooks are retried by the outbound engine's drain)."""

    return {"time_rules": time_rules_run()}


@task()
def time_rule_backfill_task(rule_id: int) -> int:
    return time_rule_backfill(rule_id=rule_id)

