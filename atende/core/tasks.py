"""Background-task helpers and the core's own periodic tasks.

Services enqueue their app's tasks by dotted path (``enqueue_on_commit("atende.<app>.tasks.<name>", ...)``): the
tasks module imports the services it runs, so a service importing its tasks module would close a loop.
"""

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from atende.core.throttle import throttle_prune


def enqueue(task_path: str, *args: Any, **kwargs: Any) -> Any:
    """Enqueue the task at ``task_path`` now; returns its result handle."""
    return import_string(task_path).enqueue(*args, **kwargs)


def enqueue_on_commit(task_path: str, *args: Any, **kwargs: Any) -> None:
    """Enqueue the task at ``task_path`` once the current transaction commits (at once outside a transaction),
    so a worker never picks up work about rows it cannot see yet, nor work a rollback cancelled."""
    transaction.on_commit(lambda: enqueue(task_path, *args, **kwargs))


@task()
def task_results_prune_task(*, keep_hours: int = 24) -> int:
    """Delete finished background-task results older than ``keep_hours`` (failures are kept a week)."""
    now = timezone.now()
    done = DBTaskResult.objects.filter(status="SUCCESSFUL", finished_at__lt=now - datetime.timedelta(hours=keep_hours))
    failed = DBTaskResult.objects.filter(status="FAILED", finished_at__lt=now - datetime.timedelta(days=7))
    return done.delete()[0] + failed.delete()[0]


@task()
def throttle_prune_task() -> int:
    """Drop throttle windows that have ended (refusals are kept 30 days as their record)."""
    return throttle_prune()
