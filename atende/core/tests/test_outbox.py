"""The outbox dispatcher: event rows reach every subscriber once, in batches, in order per ticket; failures are
retried, then parked, without holding up other tickets; bulk loads are passed over."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from atende.core import events
from atende.core.actor import Actor
from atende.core.models import EventRetry, SubscriberCursor
from atende.core.outbox import dispatch
from atende.core.outbox.drain import drain
from atende.core.outbox.services import parked_event_discard, parked_event_retry
from atende.core.outbox.status import events_health, subscriber_status
from atende.core.testing import subscribers as recorder
from atende.tickets.models import TicketEvent
from atende.tickets.services import ticket_transition
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

REAL_SUBSCRIBERS = events.SUBSCRIBERS
FIRST = events.Subscriber("first", "atende.core.testing.subscribers.first")
SECOND = events.Subscriber("second", "atende.core.testing.subscribers.second", after=("first",))


@pytest.fixture(autouse=True)
def two_subscribers(settings, monkeypatch):
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    settings.ATENDE_EVENTS_BACKOFF_SECONDS = 0
    settings.ATENDE_EVENTS_MAX_ATTEMPTS = 3
    monkeypatch.setattr(events, "SUBSCRIBERS", (FIRST, SECOND))
    monkeypatch.setattr(dispatch, "SUBSCRIBERS", (FIRST, SECOND))
    monkeypatch.setattr("atende.core.outbox.status.SUBSCRIBERS", (FIRST, SECOND))
    recorder.reset()
    yield
    recorder.reset()


def live_ids():
    return list(TicketEvent.objects.filter(backfill=False).order_by("id").values_list("id", flat=True))


def test_every_event_reaches_every_subscriber_once_in_batches(customer, agent):
    tickets = [make_ticket(requester=customer) for _ in range(3)]
    ticket_transition(ticket=tickets[0], to="open", actor=Actor.for_user(agent))
    ids = live_ids()
    assert len(ids) == 4

    totals = drain(jobs=False)

    assert recorder.effects("first") == ids and recorder.effects("second") == ids
    assert recorder.BATCHES["first"] == [ids]  # one batch, the whole list, in id order
    assert totals["events"] >= 4 and totals["parked"] == 0
    assert drain(jobs=False)["events"] == 0  # a second drain finds nothing: the cursors moved with the effects
    assert set(SubscriberCursor.objects.values_list("subscriber", "position")) == {("first", ids[-1]),
                                                                                 ("second", ids[-1])}


def test_batches_are_capped_and_the_cursor_commits_with_the_effects(settings, customer):
    settings.ATENDE_EVENTS_BATCH = 2
    for _ in range(5):
        make_ticket(requester=customer)
    ids = live_ids()
    drain(jobs=False)
    assert recorder.BATCHES["first"] == [ids[0:2], ids[2:4], ids[4:5]]
    assert recorder.effects("first") == ids


def test_a_batch_whose_cursor_cannot_advance_leaves_no_effect(customer):
    make_ticket(requester=customer)
    dispatch.cursors_ensure()
    unit = dispatch.units()[0]
    assert dispatch.lease_claim(unit, "worker-a")
    SubscriberCursor.objects.filter(subscriber="first").update(lease_owner="worker-b")  # taken over meanwhile
    with pytest.raises(dispatch.LeaseLost):
        dispatch.run_batch(unit, "worker-a")
    assert recorder.effects("first") == []
    assert SubscriberCursor.objects.get(subscriber="first").position < live_ids()[0]


def test_bulk_loads_are_passed_over(customer):
    with events.events_suppressed():
        old = make_ticket(requester=customer)
    assert TicketEvent.objects.get(ticket=old).backfill is True
    new = make_ticket(requester=customer)
    drain(jobs=False)
    assert recorder.effects("first") == [TicketEvent.objects.get(ticket=new).pk]


def test_a_failing_event_holds_back_only_its_own_ticket(customer, agent):
    stuck, other = make_ticket(requester=customer), make_ticket(requester=customer)
    ticket_transition(ticket=stuck, to="open", actor=Actor.for_user(agent))
    ticket_transition(ticket=other, to="open", actor=Actor.for_user(agent))
    created = TicketEvent.objects.get(ticket=stuck, type="TICKET_CREATED").pk
    later = TicketEvent.objects.get(ticket=stuck, type="STATUS_CHANGED").pk
    recorder.FAIL_ON[("first", created)] = "boom"

    dispatch.cursors_ensure()
    dispatch.run_unit(dispatch.units()[0], "w")  # one batch, no retry due yet within it? backoff 0: retried too

    other_ids = list(TicketEvent.objects.filter(ticket=other).order_by("id").values_list("id", flat=True))
    assert recorder.effects("first") == other_ids  # the other ticket went on
    waiting = {r.event_id: r for r in EventRetry.objects.filter(subscriber="first")}
    assert set(waiting) == {created, later}
    assert waiting[created].attempts >= 1 and "subscriber bug" in waiting[created].last_error
    assert waiting[later].attempts == 0  # held behind, never tried

    recorder.FAIL_ON.clear()
    drain(jobs=False)
    assert recorder.effects("first") == sorted([*other_ids, created, later])  # in order, once each
    assert not EventRetry.objects.filter(subscriber="first").exists()


def test_after_the_last_attempt_the_event_is_parked_and_the_ticket_goes_on(customer, agent):
    ticket = make_ticket(requester=customer)
    ticket_transition(ticket=ticket, to="open", actor=Actor.for_user(agent))
    created, later = live_ids()
    recorder.FAIL_ON[("first", created)] = "boom"

    drain(jobs=False)

    parked = EventRetry.objects.get(subscriber="first", event_id=created)
    assert parked.state == "parked" and parked.attempts == 3 and "RuntimeError" in parked.last_error
    assert recorder.effects("first") == [later]  # the stream went on past it
    # "second" runs after "first": it does not wait for an event "first" gave up on
    assert recorder.effects("second") == [created, later]

    recorder.FAIL_ON.clear()
    parked_event_retry(actor=Actor.system(), retry_id=parked.pk)
    drain(jobs=False)
    assert recorder.effects("first") == [created, later]
    assert not EventRetry.objects.filter(subscriber="first").exists()


def test_a_payload_the_subscriber_cannot_handle_is_parked_at_once_never_dropped(customer):
    make_ticket(requester=customer)
    (event_id,) = live_ids()
    recorder.FAIL_ON[event_id] = "bad"
    drain(jobs=False)
    row = EventRetry.objects.get(subscriber="first", event_id=event_id)
    assert row.state == "parked" and row.attempts == 1 and "no usable data" in row.last_error
    parked_event_discard(actor=Actor.system(), retry_id=row.pk)
    assert EventRetry.objects.get(pk=row.pk).state == "discarded"


@pytest.mark.parametrize("data", [[1, 2], "text", 7, True])
def test_malformed_event_data_is_parked_for_every_subscriber(customer, data):
    ticket = make_ticket(requester=customer)
    TicketEvent.objects.filter(ticket=ticket).update(data=data)
    drain(jobs=False)
    rows = EventRetry.objects.filter(event_id=live_ids()[0])
    assert {(r.subscriber, r.state) for r in rows} == {("first", "parked"), ("second", "parked")}


def test_an_unknown_event_type_is_recorded_and_skipped_with_a_warning(customer, caplog):
    ticket = make_ticket(requester=customer)
    TicketEvent.objects.filter(ticket=ticket).update(type="FROM_THE_FUTURE")
    follow = make_ticket(requester=customer)
    drain(jobs=False)
    skipped = EventRetry.objects.get(subscriber="first", state="skipped")
    assert skipped.event_type == "FROM_THE_FUTURE" and "unknown event type" in skipped.last_error
    assert "FROM_THE_FUTURE" in caplog.text
    assert recorder.effects("first") == list(TicketEvent.objects.filter(ticket=follow).values_list("id", flat=True))


def test_a_subscriber_waits_for_the_one_it_runs_after(customer):
    make_ticket(requester=customer)
    dispatch.cursors_ensure()
    first, second = dispatch.units()
    dispatch.run_unit(second, "w")
    assert recorder.effects("second") == []  # "first" has not handled it yet
    dispatch.run_unit(first, "w")
    dispatch.run_unit(second, "w")
    assert recorder.effects("second") == live_ids()


def test_a_live_lease_keeps_other_workers_out_until_it_expires(customer):
    dispatch.cursors_ensure()
    unit = dispatch.units()[0]
    now = timezone.now()
    assert dispatch.lease_claim(unit, "worker-a", now=now)
    assert not dispatch.lease_claim(unit, "worker-b", now=now + dt.timedelta(seconds=5))
    assert dispatch.lease_claim(unit, "worker-a", now=now + dt.timedelta(seconds=5))  # renewal
    assert dispatch.lease_claim(unit, "worker-b", now=now + dt.timedelta(seconds=60))  # expired: taken over


def test_partitions_split_tickets_between_units(settings, customer):
    settings.ATENDE_EVENTS_PARTITIONS = 2
    tickets = [make_ticket(requester=customer) for _ in range(4)]
    drain(jobs=False)
    assert recorder.effects("first") == live_ids()
    parts = {c.partition: c for c in SubscriberCursor.objects.filter(subscriber="first")}
    assert set(parts) == {0, 1}
    assert {t.pk % 2 for t in tickets} == {0, 1}


def test_status_shows_lag_parked_and_health(settings, customer):
    make_ticket(requester=customer)
    dispatch.cursors_ensure()
    TicketEvent.objects.update(created_at=timezone.now() - dt.timedelta(minutes=10))
    rows = {r.name: r for r in subscriber_status()}
    assert rows["first"].lag_events == 1 and rows["first"].lag_seconds >= 599
    settings.ATENDE_EVENTS_LAG_DEGRADED_SECONDS = 300
    assert events_health()["degraded"] is True
    drain(jobs=False)
    rows = {r.name: r for r in subscriber_status()}
    assert rows["first"].lag_events == 0 and rows["first"].lag_seconds == 0 and rows["first"].processed_total == 1
    assert events_health()["degraded"] is False


def test_events_command_status_parked_retry_discard(customer, capsys):
    make_ticket(requester=customer)
    (event_id,) = live_ids()
    recorder.FAIL_ON[event_id] = "bad"
    call_command("events", "drain", "--no-jobs")
    call_command("events", "status")
    call_command("events", "parked")
    out = capsys.readouterr().out
    assert "drained" in out and "first" in out and f"event {event_id}" in out
    row = EventRetry.objects.get(subscriber="first")
    recorder.FAIL_ON.clear()
    call_command("events", "retry", str(row.pk))
    call_command("events", "drain", "--no-jobs")
    assert recorder.effects("first") == [event_id]
    other = EventRetry.objects.get(subscriber="second")
    call_command("events", "discard", str(other.pk))
    assert EventRetry.objects.get(pk=other.pk).state == "discarded"
    from django.core.management.base import CommandError
    with pytest.raises(CommandError):
        call_command("events", "retry", "999999")


def test_start_up_checks_fail_loudly_on_a_subscriber_that_does_not_resolve_or_a_bad_order(monkeypatch):
    from atende.core.checks import dotted_paths_check, subscriber_order_check

    monkeypatch.setattr(events, "SUBSCRIBERS", REAL_SUBSCRIBERS)
    assert dotted_paths_check() == [] and subscriber_order_check() == []
    broken = (events.Subscriber("sla", "atende.sla.subscribers.no_such_function"),
              events.Subscriber("mail", "atende.core.testing.subscribers.first", after=("nobody",)),
              events.Subscriber("early", "atende.core.testing.subscribers.first", after=("late",)),
              events.Subscriber("late", "atende.core.testing.subscribers.second"))
    monkeypatch.setattr(events, "SUBSCRIBERS", broken)
    assert any("no_such_function" in m.msg for m in dotted_paths_check())
    problems = [m.msg for m in subscriber_order_check()]
    assert any("unknown subscriber 'nobody'" in p for p in problems)
    assert any("'early' must be listed after 'late'" in p for p in problems)


def test_every_subscriber_path_resolves(monkeypatch):
    monkeypatch.setattr(events, "SUBSCRIBERS", REAL_SUBSCRIBERS)
    assert len(events.all_subscriber_paths()) >= 7 and events.subscriber_order_problems() == []
    assert {s.name for s in REAL_SUBSCRIBERS} >= {"sla", "triggers", "notifications", "webhooks", "surveys",
                                                 "reports"}
    assert events.subscriber_named("notifications").after == ("sla",)


def test_a_subscriber_added_to_a_running_desk_does_not_replay_history(monkeypatch, customer):
    """An upgrade that adds a subscriber: it starts where the current ones are, so events they have all handled
    (the desk's history) are not handed to it; events not handled yet by everyone are."""
    for _ in range(2):
        make_ticket(requester=customer)
    drain(jobs=False)
    history = live_ids()
    pending = make_ticket(requester=customer)  # written before the new subscriber's first run
    third = events.Subscriber("third", "atende.core.testing.subscribers.third")
    for module in ("atende.core.events", "atende.core.outbox.dispatch", "atende.core.outbox.status"):
        monkeypatch.setattr(f"{module}.SUBSCRIBERS", (FIRST, SECOND, third))
    drain(jobs=False)
    pending_ids = list(TicketEvent.objects.filter(ticket=pending).values_list("id", flat=True))
    assert recorder.effects("third") == pending_ids and not set(recorder.effects("third")) & set(history)
    assert recorder.effects("first") == history + pending_ids  # the others go on as before
