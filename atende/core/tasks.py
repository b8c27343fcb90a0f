import datetime

from django.utils import timezone
from django_tasks import task


@task()
def task_results_prune_task(*, keep_hours: int = 24) -> int:
    """Delete finished background-task results older than ``keep_hours`` (failures are kept a week)."""
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    done = DBTaskResult.objects.filter(status="SUCCESSFUL", finished_at__lt=now - datetime.timedelta(hours=keep_hours))
    failed = DBTaskResult.objects.filter(status="FAILED", finished_at__lt=now - datetime.timedelta(days=7))
    return done.delete()[0] + failed.delete()[0]


@task()
def throttle_prune_task() -> int:
    """Drop throttle windows that have ended (refusals are kept 30 days as their record)."""
    from atende.core.throttle import throttle_prune

    return throttle_prune()
