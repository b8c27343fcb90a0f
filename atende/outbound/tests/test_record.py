"""Recording a claimed batch's results: together, in one transaction (or a few), with the same statuses, attempts,
backoff and give-up as one at a time; a failure in one delivery keeps the others' results; a worker killed before
recording leaves its deliveries to be sent again, as the same deliveries."""

from __future__ import annotations

import datetime as dt
import time
from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from atende.outbound.choices import AttemptOutcome, DeliveryStatus
from atende.outbound.models import Delivery, DeliveryAttempt
from atende.outbound.services import deliveries_claim, deliveries_drain, deliveries_send
from atende.outbound.services import send as send_module


def queued(count: int) -> list[Delivery]:
    """Rows as an enqueue leaves them, without the task its commit would start."""
    return Delivery.objects.bulk_create([
        Delivery(transport="recording", target=f"somewhere/{n}", payload={"n": n}, max_attempts=3,
                 next_attempt_at=timezone.now()) for n in range(count)])


@contextmanager
def commits():
    counted: list[int] = []
    original = connection.commit

    def commit(*args, **kwargs):
        counted.append(1)
        return original(*args, **kwargs)

    with mock.patch.object(connection, "commit", commit):
        yield counted


def attempt_log(pk: int) -> list[tuple[int, str]]:
    return list(DeliveryAttempt.objects.filter(delivery_id=pk).order_by("number", "id")
                .values_list("number", "outcome"))


@pytest.mark.django_db(transaction=True)
def test_a_claimed_batch_is_recorded_in_one_transaction(recording, monkeypatch):
    monkeypatch.setattr(send_module, "RECORD_EVERY", 60)  # however slow this machine
    rows = queued(20)
    with commits() as counted:
        result = deliveries_send(delivery_ids=[r.pk for r in rows])
    assert len(counted) == 2  # the claim, then every result together
    assert sorted(recording.sent) == [r.pk for r in rows]
    assert {pk: d.status for pk, d in result.items()} == {r.pk: DeliveryStatus.SENT for r in rows}
    stored = list(Delivery.objects.order_by("id").values_list("status", "attempts", "external_id", "lease_token",
                                                              "lease_until", "last_status_code"))
    assert stored == [(DeliveryStatus.SENT, 1, f"remote-{r.pk}", "", None, 200) for r in rows]
    assert all(attempt_log(r.pk) == [(1, AttemptOutcome.SENT)] for r in rows)


@pytest.mark.django_db(transaction=True)
def test_a_failed_send_backs_off_and_gives_up_as_before_while_the_rest_of_its_batch_is_sent(recording,
                                                                                             monkeypatch):
    monkeypatch.setattr(send_module, "RECORD_EVERY", 60)
    rows = queued(6)
    failing = rows[2]
    recording.fail_ids = {failing.pk}
    with commits() as counted:
        deliveries_send(delivery_ids=[r.pk for r in rows])
    # The claim, the failure recorded before the next send (with the results before it), the rest at the end.
    assert len(counted) == 3
    assert sorted(recording.sent) == sorted(r.pk for r in rows if r.pk != failing.pk)
    waits = []
    for number in (1, 2):
        row = Delivery.objects.get(pk=failing.pk)
        assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.FAILED, number, 503)
        waits.append((row.next_attempt_at - row.last_attempt_at).total_seconds())
        assert deliveries_drain() == 0  # not due yet
        Delivery.objects.filter(pk=failing.pk).update(next_attempt_at=timezone.now())
        assert deliveries_drain() == 1
    assert 9 <= waits[0] <= 10.5 and 18 <= waits[1] <= 20.5  # 10 s then 20 s, minus the jitter
    row = Delivery.objects.get(pk=failing.pk)
    assert (row.status, row.attempts, row.next_attempt_at, row.last_error) == (
        DeliveryStatus.GIVEN_UP, 3, None, "HTTP 503")
    assert attempt_log(failing.pk) == [(1, "failed"), (2, "failed"), (3, "failed")]
    assert set(Delivery.objects.exclude(pk=failing.pk).values_list("status", flat=True)) == {DeliveryStatus.SENT}


@pytest.mark.django_db
def test_a_delivery_whose_result_cannot_be_recorded_does_not_lose_the_others(recording):
    rows = queued(5)
    broken = rows[1]
    recording.broken_hook_ids = {broken.pk}
    result = deliveries_send(delivery_ids=[r.pk for r in rows])
    others = [r.pk for r in rows if r.pk != broken.pk]
    assert sorted(recording.sent) == [r.pk for r in rows]
    assert all(result[pk].status == DeliveryStatus.SENT and attempt_log(pk) == [(1, "sent")] for pk in others)
    row = Delivery.objects.get(pk=broken.pk)
    assert row.status == DeliveryStatus.SENDING and attempt_log(broken.pk) == []
    # Its lease runs out and it is sent again, as the same delivery, with the lost attempt logged.
    recording.broken_hook_ids = set()
    [taken] = deliveries_claim(now=timezone.now() + dt.timedelta(seconds=recording.lease_seconds + 1))
    assert taken.pk == broken.pk
    send_module._send_claimed([taken])
    assert recording.sent.count(broken.pk) == 2
    assert attempt_log(broken.pk) == [(1, "lost"), (2, "sent")]
    assert Delivery.objects.get(pk=broken.pk).status == DeliveryStatus.SENT


@pytest.mark.django_db
def test_deliveries_sent_by_a_worker_killed_before_recording_are_sent_again_as_the_same_ones(recording):
    rows = queued(3)
    claimed = deliveries_claim()
    for delivery in claimed[:2]:  # the far side took these two; the worker died before recording anything
        send_module._try(delivery)
    assert deliveries_claim() == []  # its leases still hold
    later = timezone.now() + dt.timedelta(seconds=recording.lease_seconds + 1)
    retaken = deliveries_claim(now=later)
    assert [d.pk for d in retaken] == [r.pk for r in rows]
    send_module._send_claimed(retaken)
    assert recording.sent == [rows[0].pk, rows[1].pk, rows[0].pk, rows[1].pk, rows[2].pk]
    assert all(attempt_log(r.pk) == [(1, "lost"), (2, "sent")] for r in rows)
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


@pytest.mark.django_db
def test_results_are_recorded_before_a_send_that_starts_after_record_every(recording, monkeypatch):
    """Results wait together, but not behind a slow send for longer than one send: once ``RECORD_EVERY`` has
    passed, what was sent is recorded (and the rest's leases renewed) before the next send starts."""
    monkeypatch.setattr(send_module, "RECORD_EVERY", 0.05)
    rows = queued(4)
    seen: dict[int, dict[int, str]] = {}
    leases: dict[int, dt.datetime] = {}

    def before_send(delivery):
        seen[delivery.pk] = dict(Delivery.objects.values_list("pk", "status"))
        leases[delivery.pk] = Delivery.objects.get(pk=rows[3].pk).lease_until
        if delivery.pk == rows[1].pk:
            time.sleep(0.1)  # a slow endpoint

    recording.before_send = before_send
    deliveries_send(delivery_ids=[r.pk for r in rows])
    assert seen[rows[1].pk][rows[0].pk] == DeliveryStatus.SENDING  # recorded together, not one by one
    assert seen[rows[2].pk][rows[0].pk] == seen[rows[2].pk][rows[1].pk] == DeliveryStatus.SENT
    assert seen[rows[3].pk][rows[2].pk] == DeliveryStatus.SENDING
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert DeliveryAttempt.objects.filter(outcome=AttemptOutcome.SENT).count() == 4
    assert leases[rows[2].pk] > leases[rows[1].pk]  # the recording renewed the lease of the rows not sent yet


@pytest.mark.django_db(transaction=True)
def test_the_attempt_rows_of_a_recording_are_all_stored_with_their_ids_as_the_hooks_saw_them(recording, monkeypatch):
    monkeypatch.setattr(send_module, "RECORD_EVERY", 60)
    rows = queued(7)
    recording.fail_ids = {rows[1].pk, rows[4].pk}
    seen = []
    monkeypatch.setattr(recording, "attempts_recorded",
                        lambda self, recorded: seen.extend((d.pk, a.pk, a.outcome, a.created_at) for d, a in recorded))
    deliveries_send(delivery_ids=[r.pk for r in rows])
    stored = list(DeliveryAttempt.objects.order_by("delivery_id").values_list(
        "delivery_id", "id", "number", "outcome", "error", "status_code", "created_at"))
    assert [(d, n, o, e, c) for d, _id, n, o, e, c, _at in stored] == [
        (r.pk, 1, *((AttemptOutcome.FAILED, "HTTP 503", 503) if r.pk in recording.fail_ids else
                    (AttemptOutcome.SENT, "", 200))) for r in rows]
    assert sorted(seen) == [(d, i, o, at) for d, i, _n, o, _e, _c, at in stored]
    sent_at = dict(Delivery.objects.filter(status=DeliveryStatus.SENT).values_list("pk", "sent_at"))
    assert len(sent_at) == 5 and all(at == sent_at[d] for d, *_rest, at in stored if d in sent_at)
