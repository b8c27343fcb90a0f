"""``enqueue_on_commit``: a task named by dotted path is queued only when the transaction commits."""

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from atende.core.tasks import enqueue_on_commit

TASK = "atende.core.tasks.throttle_prune_task"


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def _queued() -> list[str]:
    return list(DBTaskResult.objects.values_list("task_path", flat=True))


def test_queued_after_commit_not_before(db, database_queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        enqueue_on_commit(TASK)
        assert _queued() == []  # still inside the transaction
    assert len(callbacks) == 1
    assert _queued() == [TASK]


@pytest.mark.django_db(transaction=True)
def test_nothing_queued_when_the_transaction_rolls_back(database_queue):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(TASK)
        raise RuntimeError("the service failed")
    assert _queued() == []


def test_a_wrong_path_fails_when_enqueued(db, database_queue, django_capture_on_commit_callbacks):
    with pytest.raises(ImportError), django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit("atende.core.tasks.no_such_task")
