"""The cursor advance: one checked update ending the batch's transaction (no locked read before the subscriber's
work), a worker pass's idle advances in one update, and a pass's own view of the cursors and retries of the
subscribers others run after."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.core import events
from atende.core.models import EventRetry, SubscriberCursor
from atende.core.outbox import dispatch
from atende.core.outbox.worker import EventsWorker
from atende.core.testing import subscribers as recorder
from atende.tickets.models import TicketEvent
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

FIRST = events.Subscriber("first", "atende.core.testing.subscribers.first")
SECOND = events.Subscriber("second", "atende.core.testing.subscribers.second", after=("first",))
# Handed only status changes: a created ticket's event is passed over with an idle advance.
TYPED = events.Subscriber("third", "atende.core.testing.subscribers.third", types=("STATUS_CHANGED",))
TYPED_TOO = events.Subscriber("typed", "atende.core.testing.subscribers.third", types=("STATUS_CHANGED",))


@pytest.fixture(autouse=True)
def subscribers(settings, monkeypatch):
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    settings.ATENDE_EVENTS_BACKOFF_SECONDS = 600
    chosen = (FIRST, SECOND, TYPED, TYPED_TOO)
    monkeypatch.setattr(events, "SUBSCRIBERS", chosen)
    monkeypatch.setattr(dispatch, "SUBSCRIBERS", chosen)
    recorder.reset()
    yield
    recorder.reset()


def _ids(*tickets) -> list[int]:
    return list(TicketEvent.objects.filter(ticket__in=tickets).order_by("id").values_list("id", flat=True))


def _cursor(name: str) -> SubscriberCursor:
    return SubscriberCursor.objects.get(subscriber=name)


def test_a_cursor_with_gaps_advances_with_its_batch(customer):
    # The advance names the gaps it was planned from (a JSON list, with a sighting time to the microsecond): the
    # row must match it on both databases, or no batch of a cursor with gaps would ever commit.
    one, two = make_ticket(requester=customer), make_ticket(requester=customer)
    [late], [new] = _ids(one), _ids(two)
    dispatch.cursors_ensure()
    SubscriberCursor.objects.filter(subscriber="first").update(position=late, gaps=[[late, late, time.time()]])

    dispatch.run_unit(dispatch.units()[0], "w")

    assert recorder.effects("first") == [late, new]
    cursor = _cursor("first")
    assert (cursor.position, cursor.gaps, cursor.lease_owner) == (new, [], "")


def test_a_cursor_moved_while_the_batch_ran_rolls_its_effects_back(customer, monkeypatch):
    # No locked read before the subscriber's work: the advance itself checks the cursor is still where the batch
    # was planned from. Another worker's advance meanwhile leaves this batch with no effect.
    ticket = make_ticket(requester=customer)
    [event] = _ids(ticket)
    dispatch.cursors_ensure()
    real_handle = dispatch._handle

    def handle_then_moved(unit, chosen, now):
        real_handle(unit, chosen, now)
        SubscriberCursor.objects.filter(subscriber="first").update(position=event + 100)

    monkeypatch.setattr(dispatch, "_handle", handle_then_moved)
    assert dispatch.lease_claim(dispatch.units()[0], "w")
    with pytest.raises(dispatch.LeaseLost):
        dispatch.run_batch(dispatch.units()[0], "w")

    assert recorder.effects("first") == []  # (the simulated move, made on this connection, went with it)
    assert _cursor("first").position < event


def _advance_updates(queries) -> list[str]:
    table = SubscriberCursor._meta.db_table
    return [q["sql"] for q in queries if q["sql"].startswith(f'UPDATE "{table}" SET "position"')]


def test_a_worker_pass_writes_its_idle_advances_in_one_update(customer):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL workers give each lease back after its slice: idle advances are written at once")
    tickets = [make_ticket(requester=customer) for _ in range(3)]
    ids = _ids(*tickets)
    dispatch.cursors_ensure()
    worker = EventsWorker(worker_id="w", jobs=False)

    with CaptureQueriesContext(connection) as queries:
        worker.tick()

    assert recorder.effects("first") == recorder.effects("second") == ids
    assert recorder.effects("third") == []
    # "first" and "second" each with its batch; "third" and "typed", handed nothing, together (the code before:
    # one update each).
    assert len(_advance_updates(queries.captured_queries)) == 3
    assert {c.subscriber: c.position for c in SubscriberCursor.objects.all()} == {
        "first": ids[-1], "second": ids[-1], "third": ids[-1], "typed": ids[-1]}
    with CaptureQueriesContext(connection) as queries:
        assert worker.tick() == 0  # nothing left: the idle advances were written
    assert _advance_updates(queries.captured_queries) == []


def test_an_idle_advance_kept_for_the_pass_is_folded_into_the_units_next_batch(customer, agent, settings):
    # A scan that stops at its limit with nothing to hand over leaves its advance for the pass's end; the unit's
    # next batch in the same run writes it with its own (the row is still where the first plan read it).
    if connection.vendor != "sqlite":
        pytest.skip("idle advances are kept for the pass only by a worker that keeps its leases")
    settings.ATENDE_EVENTS_BATCH = 1  # a scan reads at most 20 events
    from atende.core.actor import Actor
    from atende.tickets.services import ticket_transition

    tickets = [make_ticket(requester=customer) for _ in range(21)]
    ticket_transition(ticket=tickets[0], to="open", actor=Actor.for_user(agent))
    changed = TicketEvent.objects.get(type="STATUS_CHANGED").pk
    dispatch.cursors_ensure()
    unit = next(u for u in dispatch.units() if u.subscriber.name == "third")

    with dispatch.rows_shared():
        dispatch.run_unit(unit, "w", release=False, seconds=30)

    assert recorder.effects("third") == [changed]
    assert _cursor("third").position == changed


def test_a_retry_its_dependency_recorded_in_the_same_pass_holds_the_event_back(customer, settings):
    # The pass looked for waiting retries before "first" ran; the failure "first" records in the pass is noted, so
    # "second" still does not get the event ("first" has not done it).
    settings.ATENDE_EVENTS_MAX_ATTEMPTS = 5
    stuck, other = make_ticket(requester=customer), make_ticket(requester=customer)
    [failing], [fine] = _ids(stuck), _ids(other)
    recorder.FAIL_ON[("first", failing)] = "boom"
    dispatch.cursors_ensure()

    EventsWorker(worker_id="w", jobs=False).tick()

    assert EventRetry.objects.get(subscriber="first").event_id == failing
    assert recorder.effects("first") == recorder.effects("second") == [fine]
