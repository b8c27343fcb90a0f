"""Subscribers that declare the event types they act on: the dispatcher moves their cursors past the other events
without calling them and without a transaction, and a handled event among many ignored ones is handed over once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.core import events
from atende.core.actor import Actor
from atende.core.models import EventRetry, SubscriberCursor
from atende.core.outbox import dispatch
from atende.core.outbox.drain import drain
from atende.core.testing import subscribers as recorder
from atende.tickets.models import TicketEvent
from atende.tickets.services import ticket_transition
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

REAL_SUBSCRIBERS = events.SUBSCRIBERS
QUIET = events.Subscriber("first", "atende.core.testing.subscribers.first", types=("STATUS_CHANGED",))
SECOND = events.Subscriber("second", "atende.core.testing.subscribers.second", after=("first",))


@pytest.fixture(autouse=True)
def quiet_subscriber(settings, monkeypatch):
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    settings.ATENDE_EVENTS_BACKOFF_SECONDS = 0
    for target in (events, dispatch):
        monkeypatch.setattr(target, "SUBSCRIBERS", (QUIET, SECOND))
    monkeypatch.setattr("atende.core.outbox.status.SUBSCRIBERS", (QUIET, SECOND))
    recorder.reset()
    yield
    recorder.reset()


def last_id() -> int:
    return TicketEvent.objects.order_by("-id").values_list("id", flat=True).first()


def test_a_batch_of_events_the_subscriber_does_not_handle_costs_no_call_and_no_transaction(customer):
    for _ in range(5):
        make_ticket(requester=customer)
    dispatch.cursors_ensure()
    unit = dispatch.units()[0]
    assert dispatch.lease_claim(unit, "w")

    with CaptureQueriesContext(connection) as queries:
        passed = dispatch.run_batch(unit, "w")

    assert passed == 5 and "first" not in recorder.BATCHES
    assert SubscriberCursor.objects.get(subscriber="first").position == last_id()
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) <= 3, statements  # the cursor read, the scan, the cursor moved
    assert not any("SAVEPOINT" in sql or "BEGIN" in sql for sql in statements), statements
    with CaptureQueriesContext(connection) as queries:
        assert dispatch.run_batch(unit, "w") == 0  # caught up: nothing written
    assert not any(sql["sql"].startswith("UPDATE") for sql in queries.captured_queries)


def test_a_handled_event_after_many_ignored_ones_is_handed_over_once(settings, customer, agent):
    settings.ATENDE_EVENTS_BATCH = 2  # a scan reaches 40 events: the ignored ones take several batches
    tickets = [make_ticket(requester=customer) for _ in range(60)]
    ticket_transition(ticket=tickets[-1], to="open", actor=Actor.for_user(agent))
    status = TicketEvent.objects.get(type="STATUS_CHANGED").pk

    drain(jobs=False)
    drain(jobs=False)

    assert recorder.BATCHES["first"] == [[status]] and recorder.effects("first") == [status]
    everything = list(TicketEvent.objects.order_by("id").values_list("id", flat=True))
    assert recorder.effects("second") == everything  # the one that runs after it is not held up
    assert set(SubscriberCursor.objects.values_list("position", flat=True)) == {last_id()}


def test_a_handled_event_waits_behind_its_tickets_failed_one_across_batches(settings, customer, agent):
    settings.ATENDE_EVENTS_BATCH = 1
    ticket = make_ticket(requester=customer)
    ticket_transition(ticket=ticket, to="open", actor=Actor.for_user(agent))
    ticket_transition(ticket=ticket, to="pending", actor=Actor.for_user(agent))
    opened, pending = TicketEvent.objects.filter(type="STATUS_CHANGED").order_by("id").values_list("id", flat=True)
    recorder.FAIL_ON[("first", opened)] = "boom"

    dispatch.cursors_ensure()
    dispatch.run_unit(dispatch.units()[0], "w", seconds=30)  # batch one fails; batch two waits behind it

    assert recorder.effects("first") == []
    waiting = dict(EventRetry.objects.filter(subscriber="first").values_list("event_id", "attempts"))
    assert set(waiting) == {opened, pending} and waiting[pending] == 0
    recorder.FAIL_ON.clear()
    drain(jobs=False)
    assert recorder.effects("first") == [opened, pending]


def test_declared_event_types_exist():
    known = dispatch.known_types()
    for sub in REAL_SUBSCRIBERS:
        assert set(sub.types or ()) <= known, sub.name
    reports = next(sub for sub in REAL_SUBSCRIBERS if sub.name == "reports")
    assert "TICKET_CREATED" in events.handled_types(reports, known) < known


def test_a_subscriber_with_a_batch_scale_takes_that_many_batches_at_once(settings, monkeypatch, customer):
    """Reports marks each event's ticket in one insert per batch and sees most events: its batches are bigger."""
    settings.ATENDE_EVENTS_BATCH = 2
    scaled = events.Subscriber("first", "atende.core.testing.subscribers.first", batch_scale=3)
    plain = events.Subscriber("third", "atende.core.testing.subscribers.third")
    recorder.use(monkeypatch, (scaled, plain))
    monkeypatch.setattr("atende.core.outbox.status.SUBSCRIBERS", (scaled, plain))
    for _ in range(7):
        make_ticket(requester=customer)

    drain(jobs=False)

    everything = list(TicketEvent.objects.order_by("id").values_list("id", flat=True))
    assert [len(batch) for batch in recorder.BATCHES["first"]] == [6, 1]
    assert [len(batch) for batch in recorder.BATCHES["third"]] == [2, 2, 2, 1]
    assert recorder.effects("first") == recorder.effects("third") == everything


def test_the_reports_subscriber_takes_bigger_batches():
    assert next(sub for sub in REAL_SUBSCRIBERS if sub.name == "reports").batch_scale > 1
    assert all(sub.batch_scale == 1 for sub in REAL_SUBSCRIBERS if sub.name != "reports")
