"""What one worker pass costs: the event rows read once for every subscriber, and on SQLite the units' leases kept
from pass to pass (renewed by the batches) instead of a claim and a release per unit per pass."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.core.models import SubscriberCursor
from atende.core.outbox import dispatch, rounds
from atende.core.outbox.worker import EventsWorker
from atende.core.testing import subscribers as recorder
from atende.tickets.models import TicketEvent
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

FIRST, SECOND, THIRD = recorder.FIRST, recorder.SECOND, recorder.THIRD


@pytest.fixture(autouse=True)
def three_subscribers(settings, monkeypatch):
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    recorder.use(monkeypatch)
    yield
    recorder.reset()


def _payload_reads(queries) -> int:
    table = TicketEvent._meta.db_table
    return sum(1 for q in queries if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"]
               and f'"{table}"."source_event_id"' in q["sql"] and f'"{table}"."data"' in q["sql"])


def test_a_pass_reads_the_event_rows_once_for_every_subscriber(customer):
    tickets = [make_ticket(requester=customer) for _ in range(3)]
    ids = list(TicketEvent.objects.filter(ticket__in=tickets).order_by("id").values_list("id", flat=True))

    with CaptureQueriesContext(connection) as queries:
        rounds.pass_all("w")

    assert recorder.effects("first") == recorder.effects("second") == recorder.effects("third") == ids
    assert _payload_reads(queries.captured_queries) == 1


def test_a_deleted_event_is_not_handed_over_from_the_pass_rows(customer):
    first, second = make_ticket(requester=customer), make_ticket(requester=customer)
    dispatch.cursors_ensure()
    with dispatch.rows_shared():
        dispatch.run_unit(dispatch.units()[0], "w")  # reads both rows into the pass
        second.delete()  # its events go with it
        dispatch.run_unit(dispatch.units()[2], "w")
    kept = list(TicketEvent.objects.filter(ticket=first).values_list("id", flat=True))
    assert recorder.BATCHES["third"] == [kept]


def test_a_sqlite_worker_keeps_its_leases_between_passes(customer, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL workers give leases back after each slice, to share the units")
    claims = []
    real_claim = dispatch.lease_claim
    monkeypatch.setattr(dispatch, "lease_claim", lambda unit, owner, **kw: claims.append(unit) or
                        real_claim(unit, owner, **kw))
    worker = EventsWorker(worker_id="keeper", jobs=False)
    assert worker.keep_leases
    make_ticket(requester=customer)
    worker.tick()
    make_ticket(requester=customer)
    worker.tick()

    assert len(claims) == 3  # once per unit, not once per unit per pass
    assert set(SubscriberCursor.objects.values_list("lease_owner", flat=True)) == {"keeper"}
    last = TicketEvent.objects.order_by("-id").values_list("id", flat=True).first()
    assert set(SubscriberCursor.objects.values_list("position", flat=True)) == {last}


def test_a_worker_that_gives_leases_back_claims_every_pass(customer):
    worker = EventsWorker(worker_id="sharer", jobs=False, keep_leases=False)
    make_ticket(requester=customer)
    worker.tick()
    assert set(SubscriberCursor.objects.values_list("lease_owner", flat=True)) == {""}


def _scans(queries) -> int:
    """The dispatcher's plans: each scans the stream past a cursor for (id, ticket, backfill, type)."""
    table = TicketEvent._meta.db_table
    return sum(1 for q in queries if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"]
               and f'"{table}"."backfill"' in q["sql"])


def _cursor_reads(queries) -> int:
    table = SubscriberCursor._meta.db_table
    return sum(1 for q in queries if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"])


@pytest.mark.parametrize("count", [1, 6])
def test_a_worker_pass_plans_each_unit_once_when_its_batch_reaches_the_end(customer, count):
    # A unit whose batch took every new event is not asked again for more in the same pass, its cursor is the one
    # the pass read, and whether its subscriber has retries waiting is known from the pass's own look: the
    # statements of a pass do not grow with the units' second looks (the code before planned every unit twice and
    # read its cursor again).
    tickets = [make_ticket(requester=customer) for _ in range(count)]
    ids = list(TicketEvent.objects.filter(ticket__in=tickets).order_by("id").values_list("id", flat=True))
    dispatch.cursors_ensure()
    worker = EventsWorker(worker_id="w", jobs=False)

    with CaptureQueriesContext(connection) as queries:
        worker.tick()

    assert recorder.effects("first") == recorder.effects("second") == recorder.effects("third") == ids
    captured = queries.captured_queries
    # One plan per unit, all made before any batch runs: the units at the same position share one scan of the
    # stream ("second", bounded by "first"'s advance, takes its part of it). The code before: one scan per unit.
    assert _scans(captured) == 1
    # The pass's read only: no locked re-read per batch (its advance is a checked update) and no read of the
    # cursors "second" runs after (the pass has them, as "first"'s batch left them). The code before: 1 + 3 + 1.
    assert _cursor_reads(captured) == 1
    retry_looks = [q for q in captured if '"core_eventretry"' in q["sql"]]
    assert len(retry_looks) == 1  # the pass's look ("first" has nothing waiting: "second" does not look again)


def test_a_unit_goes_on_with_full_batches_within_its_slice(customer, settings):
    settings.ATENDE_EVENTS_BATCH = 2
    tickets = [make_ticket(requester=customer) for _ in range(5)]
    ids = list(TicketEvent.objects.filter(ticket__in=tickets).order_by("id").values_list("id", flat=True))
    dispatch.cursors_ensure()

    dispatch.run_unit(dispatch.units()[0], "w", seconds=30)

    assert recorder.effects("first") == ids
    assert all(len(batch) <= 2 for batch in recorder.BATCHES["first"])


def test_a_cursor_read_before_the_lease_was_taken_gets_the_lease(customer):
    ticket = make_ticket(requester=customer)
    dispatch.cursors_ensure()
    [work, *_] = rounds.work_plan()  # read with no lease on it
    assert work.cursor.lease_owner == ""

    dispatch.run_unit(work.unit, "w", cursor=work.cursor, waiting=work.waiting)

    assert recorder.effects("first") == list(TicketEvent.objects.filter(ticket=ticket).values_list("id", flat=True))
