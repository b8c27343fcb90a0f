"""What one worker pass costs: the event rows read once for every subscriber, and on SQLite the units' leases kept
from pass to pass (renewed by the batches) instead of a claim and a release per unit per pass."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.core import events
from atende.core.models import SubscriberCursor
from atende.core.outbox import dispatch
from atende.core.outbox.worker import EventsWorker
from atende.core.testing import subscribers as recorder
from atende.tickets.models import TicketEvent
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

FIRST = events.Subscriber("first", "atende.core.testing.subscribers.first")
SECOND = events.Subscriber("second", "atende.core.testing.subscribers.second", after=("first",))
THIRD = events.Subscriber("third", "atende.core.testing.subscribers.third")


@pytest.fixture(autouse=True)
def three_subscribers(settings, monkeypatch):
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    monkeypatch.setattr(events, "SUBSCRIBERS", (FIRST, SECOND, THIRD))
    monkeypatch.setattr(dispatch, "SUBSCRIBERS", (FIRST, SECOND, THIRD))
    recorder.reset()
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
        dispatch.pass_all("w")

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
