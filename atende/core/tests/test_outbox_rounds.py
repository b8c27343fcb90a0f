"""A worker pass's batches in one write transaction (``outbox.rounds``): one turn of SQLite's writers' lock per pass,
while what commits together stays per subscriber. A batch that fails as a whole is rolled back alone (its savepoint)
and the others commit; the subscribers that run after it wait for the next pass; a stop request ends the round after
the batch in hand. Run on both databases with the shared transaction on (PostgreSQL's default is off)."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest
from django.db import connection

from atende.core import events
from atende.core.models import EventRetry, SubscriberCursor
from atende.core.outbox import dispatch
from atende.core.outbox.worker import EventsWorker
from atende.core.testing import subscribers as recorder
from atende.tickets.models import TicketEvent
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)  # real transactions, to count them

FIRST, SECOND, THIRD = recorder.FIRST, recorder.SECOND, recorder.THIRD


@pytest.fixture(autouse=True)
def three_subscribers(settings, monkeypatch):
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    settings.ATENDE_EVENTS_SHARED_TRANSACTION = True
    settings.ATENDE_EVENTS_BACKOFF_SECONDS = 600
    recorder.use(monkeypatch)
    yield
    recorder.reset()


@contextmanager
def write_transactions():
    """Counts the transactions that commit and the writes made outside any (each a transaction of its own)."""
    counted = [0]
    commit = connection.commit

    def counting_commit():
        counted[0] += 1
        return commit()

    def autocommit_writes(execute, sql, params, many, context):
        if not connection.in_atomic_block and sql.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE",
                                                                                        "DELETE"):
            counted[0] += 1
        return execute(sql, params, many, context)

    connection.commit = counting_commit
    try:
        with connection.execute_wrapper(autocommit_writes):
            yield counted
    finally:
        del connection.commit


def _ids(*tickets) -> list[int]:
    return list(TicketEvent.objects.filter(ticket__in=tickets).order_by("id").values_list("id", flat=True))


def _positions() -> dict[str, int]:
    return dict(SubscriberCursor.objects.values_list("subscriber", "position"))


def _warm_worker(customer) -> tuple[EventsWorker, list[int]]:
    """A worker that has taken its leases and sent its heartbeat (a first pass), so the next pass writes only what
    its batches write."""
    worker = EventsWorker(worker_id="w", jobs=False, keep_leases=True)
    first = make_ticket(requester=customer)
    worker.tick()
    worker._last_beat = time.monotonic() + 3600  # its next heartbeat (a write of its own) after the passes measured
    return worker, _ids(first)


def test_a_pass_of_several_subscribers_is_one_write_transaction(customer, monkeypatch):
    worker, before = _warm_worker(customer)
    tickets = [make_ticket(requester=customer) for _ in range(3)]
    ids = _ids(*tickets)

    with write_transactions() as counted:
        worker.tick()

    everything = before + ids
    assert recorder.effects("first") == recorder.effects("second") == recorder.effects("third") == everything
    assert set(_positions().values()) == {ids[-1]}
    # The three batches and their cursor advances: one transaction (the code before: one per batch, 3).
    assert counted[0] == 1


def test_a_batch_that_fails_as_a_whole_rolls_back_alone_and_the_others_commit(customer, monkeypatch):
    worker, before = _warm_worker(customer)
    positions = _positions()
    ticket = make_ticket(requester=customer)
    ids = _ids(ticket)
    real_handle = dispatch._handle

    def third_breaks_after_its_effects(unit, chosen, now, **kwargs):
        real_handle(unit, chosen, now, **kwargs)
        if unit.subscriber.name == "third":
            raise RuntimeError("bookkeeping failed")

    monkeypatch.setattr(dispatch, "_handle", third_breaks_after_its_effects)
    with write_transactions() as counted, pytest.raises(RuntimeError, match="bookkeeping failed"):
        worker.tick()

    assert counted[0] == 1  # the others' batches committed, in the one transaction
    assert recorder.effects("first") == recorder.effects("second") == before + ids
    assert recorder.effects("third") == before  # its effects went with its savepoint
    assert _positions() == {**positions, "first": ids[-1], "second": ids[-1]}  # and its cursor did not move

    monkeypatch.setattr(dispatch, "_handle", real_handle)
    worker.tick()
    assert recorder.effects("third") == before + ids  # the next pass hands the batch over again, once
    assert set(_positions().values()) == {ids[-1]}


def test_the_subscribers_that_run_after_a_failed_batch_wait_for_the_next_pass(customer, monkeypatch):
    # "second" runs after "first" and was planned from the advance "first"'s batch would make: with that batch
    # rolled back, "second" does not get the events either; "third", which waits for nobody, commits.
    worker, before = _warm_worker(customer)
    ticket = make_ticket(requester=customer)
    ids = _ids(ticket)
    real_write = dispatch.passes.cursor_write

    def first_taken_over(new, owner, **kwargs):
        if new.subscriber == "first":
            SubscriberCursor.objects.filter(pk=new.pk).update(lease_owner="another-worker")
        return real_write(new, owner, **kwargs)

    monkeypatch.setattr(dispatch.passes, "cursor_write", first_taken_over)
    worker.tick()  # a lost lease is no error: the batch is left to the worker that has the unit

    assert recorder.effects("first") == recorder.effects("second") == before
    assert recorder.effects("third") == before + ids
    positions = _positions()
    assert positions["first"] == positions["second"] == before[-1] and positions["third"] == ids[-1]

    monkeypatch.setattr(dispatch.passes, "cursor_write", real_write)
    worker.tick()
    assert recorder.effects("first") == recorder.effects("second") == before + ids


def test_a_failing_event_in_the_shared_transaction_is_retried_as_before(customer, monkeypatch):
    worker, before = _warm_worker(customer)
    stuck, other = make_ticket(requester=customer), make_ticket(requester=customer)
    [failing], [fine] = _ids(stuck), _ids(other)
    recorder.FAIL_ON[("first", failing)] = "boom"

    with write_transactions() as counted:
        worker.tick()

    assert counted[0] == 1
    retry = EventRetry.objects.get(subscriber="first")
    assert (retry.event_id, retry.state, retry.attempts) == (failing, "waiting", 1)
    # "first" went on with the other ticket; "second" holds back the event "first" has not done; "third" has all.
    assert recorder.effects("first") == recorder.effects("second") == before + [fine]
    assert recorder.effects("third") == before + [failing, fine]
    assert set(_positions().values()) == {fine}
    assert EventRetry.objects.get(subscriber="second").event_id == failing


STOPPER = events.Subscriber("first", "atende.core.tests.test_outbox_rounds.stop_while_handling")
_worker: list[EventsWorker] = []


def stop_while_handling(batch):
    recorder._handle("first", batch)
    _worker[0].stop_event.set()


def test_a_stop_request_ends_the_round_after_the_batch_in_hand(customer, monkeypatch):
    monkeypatch.setattr(dispatch, "SUBSCRIBERS", (STOPPER, SECOND, THIRD))
    dispatch.cursors_ensure()
    ticket = make_ticket(requester=customer)
    ids = _ids(ticket)
    positions = _positions()
    worker = EventsWorker(worker_id="w", jobs=False, keep_leases=True)
    _worker[:] = [worker]
    try:
        worker.tick()
    finally:
        _worker.clear()

    assert recorder.effects("first") == ids and _positions()["first"] == ids[-1]  # committed with its cursor
    assert recorder.effects("second") == recorder.effects("third") == []  # not started: the next worker's
    assert _positions()["second"] == positions["second"] and _positions()["third"] == positions["third"]


RECORDING = events.Subscriber("first", "atende.core.tests.test_outbox_rounds.record_a_follow_up")


def record_a_follow_up(batch):
    """Handles the batch and, for each new ticket, records an event of its own (as SLA does after a creation)."""
    recorder._handle("first", batch)
    TicketEvent.objects.bulk_create([
        TicketEvent(ticket_id=e["ticket_id"], type="PRIORITY_CHANGED", actor_kind="system",
                    data={"old": "normal", "new": "high"}, source_event_id=e["event_id"])
        for e in batch if e["type"] == "TICKET_CREATED"])


def test_events_the_batches_record_are_handed_over_in_the_same_transaction(customer, monkeypatch):
    monkeypatch.setattr(dispatch, "SUBSCRIBERS", (RECORDING, SECOND, THIRD))
    worker, _warm = _warm_worker(customer)
    before = list(TicketEvent.objects.order_by("id").values_list("id", flat=True))
    ticket = make_ticket(requester=customer)
    [created] = _ids(ticket)

    with write_transactions() as counted:
        worker.tick()

    [_created, recorded] = _ids(ticket)
    # "third" got the creation in the pass's round, and the event "first" recorded in a second round before the
    # commit, not in a pass of its own.
    assert recorder.effects("third") == recorder.effects("second") == before + [created, recorded]
    assert recorder.BATCHES["third"][-2:] == [[created], [recorded]]
    assert counted[0] == 1 and set(_positions().values()) == {recorded}


def test_the_events_a_pass_records_are_pushed_together_after_its_commit(customer, monkeypatch):
    """What the batches of a round record (as SLA and the triggers do) reaches the live pages in one push after the
    round's commit, not one push per event."""
    worker, _before = _warm_worker(customer)
    tickets = [make_ticket(requester=customer) for _ in range(3)]
    ids = _ids(*tickets)
    pushes = []

    def push(payloads):
        # Each push sees the round committed: every effect of the round is in the database already.
        pushes.append(([p["event_id"] for p in payloads], recorder.effects("third")))

    def third_records(batch):
        recorder.third(batch)
        for event in batch:
            events.publish({"type": "NOTED", "ticket_id": event["ticket_id"], "event_id": event["event_id"]})

    monkeypatch.setattr(events, "resolve", lambda path: push)
    monkeypatch.setattr(dispatch, "resolve", lambda path: third_records if path.endswith(".third")
                        else getattr(recorder, path.rsplit(".", 1)[-1]))
    worker.tick()

    assert len(pushes) == 1
    pushed, third_effects_then = pushes[0]
    assert pushed == ids
    assert set(ids) <= set(third_effects_then)
