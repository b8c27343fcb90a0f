"""The events worker's pass hands the deliveries its batches queued to the task queue as one task, inserted once
the pass ends (one task row, one statement, whatever the number of subscribers that queued deliveries), with
every delivery in the order the batches committed them; outside a pass each transaction still queues its own."""

from __future__ import annotations

import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from atende.core import events
from atende.core.outbox import dispatch, passes
from atende.core.outbox.worker import EventsWorker
from atende.outbound.models import Delivery
from atende.outbound.services import deliveries_enqueue
from atende.tickets.tests.factories import make_ticket

SEND_TASK = "atende.outbound.tasks.deliveries_send_task"
pytestmark = pytest.mark.django_db(transaction=True)  # real commits: the tasks are queued after them


@pytest.fixture(autouse=True)
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "mail"]}}


def _queue(name: str, batch: list[dict]) -> None:
    deliveries_enqueue([{"transport": "recording", "target": f"{name}:{e['event_id']}", "payload": {},
                         "key": f"{e['event_id']}:{name}"} for e in batch])


def alerts(batch):
    _queue("alerts", batch)


def hooks(batch):
    _queue("hooks", batch)


def _send_tasks() -> list[list[int]]:
    return [r.args_kwargs["args"][0] for r in DBTaskResult.objects.filter(task_path=SEND_TASK).order_by("enqueued_at",
                                                                                                      "id")]


def _task_inserts(captured) -> int:
    table = DBTaskResult._meta.db_table
    return sum(1 for q in captured.captured_queries if q["sql"].startswith("INSERT") and table in q["sql"])


@pytest.fixture
def two_subscribers(settings, monkeypatch, recording):
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    settings.ATENDE_EVENTS_SHARED_TRANSACTION = False  # each batch its own transaction (the default)
    subscribers = (events.Subscriber("alerts", f"{__name__}.alerts"), events.Subscriber("hooks", f"{__name__}.hooks"))
    monkeypatch.setattr(events, "SUBSCRIBERS", subscribers)
    monkeypatch.setattr(dispatch, "SUBSCRIBERS", subscribers)


def test_a_pass_queues_one_send_task_for_all_its_batches_deliveries(two_subscribers, customer):
    worker = EventsWorker(worker_id="w", jobs=False, keep_leases=True)
    make_ticket(requester=customer)
    worker.tick()  # leases taken, the first ticket's deliveries queued
    worker._last_beat = time.monotonic() + 3600
    DBTaskResult.objects.all().delete()
    before = list(Delivery.objects.values_list("id", flat=True))
    for _ in range(3):
        make_ticket(requester=customer)

    with CaptureQueriesContext(connection) as captured:
        worker.tick()

    new = list(Delivery.objects.exclude(id__in=before).order_by("id").values_list("id", "target"))
    assert {target.split(":")[0] for _pk, target in new} == {"alerts", "hooks"}
    # One task row, one statement (the code before: one per batch), with every delivery in commit order.
    assert _send_tasks() == [[pk for pk, _target in new]]
    assert _task_inserts(captured) == 1


def test_outside_a_pass_the_tasks_are_queued_at_each_commit(recording):
    items = [{"transport": "recording", "target": f"t{n}", "payload": {}} for n in range(2)]
    with transaction.atomic():
        first = deliveries_enqueue(items)
    assert _send_tasks() == [[d.pk] for d in first]  # outside an events batch: one task per delivery, as before
    with transaction.atomic():
        second = deliveries_enqueue(items)
    assert _send_tasks() == [[d.pk] for d in first + second]


def test_a_pass_that_stops_on_an_error_still_queues_what_committed(recording):
    items = [{"transport": "recording", "target": "t", "payload": {}}]
    with pytest.raises(RuntimeError), passes.scope():
        with transaction.atomic():
            done = deliveries_enqueue(items)
        with transaction.atomic():
            deliveries_enqueue(items)
            raise RuntimeError("a batch broke")
    assert _send_tasks() == [[d.pk for d in done]]
