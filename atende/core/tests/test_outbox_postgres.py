"""On PostgreSQL an event id is taken before its transaction commits: a row with a lower id can become visible
after the reader passed a higher one. Two real connections commit out of id order; the late one is still handled."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from atende.core import events
from atende.core.actor import Actor
from atende.core.models import SubscriberCursor
from atende.core.outbox import dispatch
from atende.core.outbox.drain import drain
from atende.core.testing import subscribers as recorder
from atende.tickets.models import TicketEvent
from atende.tickets.tests.factories import make_ticket

FIRST = events.Subscriber("first", "atende.core.testing.subscribers.first")


@pytest.fixture
def one_subscriber(settings, monkeypatch):
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    monkeypatch.setattr(events, "SUBSCRIBERS", (FIRST,))
    monkeypatch.setattr(dispatch, "SUBSCRIBERS", (FIRST,))
    recorder.reset()
    yield
    recorder.reset()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_event_committed_after_a_higher_id_is_still_handled(one_subscriber, customer):
    make_ticket(subject="warm-up")  # settings rows created once, committed (else both writers wait on them)
    dispatch.cursors_ensure()
    drain(jobs=False)
    recorder.reset()
    inserted, release, done = threading.Event(), threading.Event(), threading.Event()
    slow: dict = {}

    def slow_writer():
        try:
            with transaction.atomic():
                ticket = make_ticket(requester=customer, actor=Actor.for_user(customer), subject="slow")
                slow["event_id"] = TicketEvent.objects.get(ticket=ticket).pk
                inserted.set()
                release.wait(20)  # id taken, not committed yet
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert inserted.wait(30)
    fast = make_ticket(subject="fast")  # another requester (no shared row lock): a higher id, committed first
    fast_event = TicketEvent.objects.get(ticket=fast).pk
    assert fast_event > slow["event_id"]

    drain(jobs=False)
    assert recorder.BATCHES["first"] == [[fast_event]]  # the lower id is not visible yet
    cursor = SubscriberCursor.objects.get(subscriber="first")
    assert cursor.position == fast_event and any(lo <= slow["event_id"] <= hi for lo, hi, _ in cursor.gaps)

    release.set()
    assert done.wait(30)
    thread.join(timeout=30)
    drain(jobs=False)
    assert recorder.BATCHES["first"] == [[fast_event], [slow["event_id"]]]
    assert SubscriberCursor.objects.get(subscriber="first").gaps == []
