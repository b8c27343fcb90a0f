"""The delivery engine: idempotent keys, claims with leases (and their takeover), the backoff schedule, give-up,
bounces, and a transport that cannot be imported."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from atende.core.actor import Actor
from atende.core.memo import batch_scope
from atende.outbound.choices import AttemptOutcome, DeliveryStatus
from atende.outbound.models import Delivery, DeliveryAttempt
from atende.outbound.services import (
    BACKOFF_CAP,
    backoff_delay,
    deliveries_claim,
    deliveries_drain,
    deliveries_enqueue,
    deliveries_send,
    delivery_cancel,
    delivery_enqueue,
    delivery_mark_bounced,
    delivery_retry,
    delivery_send,
)
from atende.outbound.services.send import _attempt
from atende.outbound.transports import transports_load

pytestmark = pytest.mark.django_db


def enqueue(key=None, **kwargs):
    return delivery_enqueue(transport="recording", target="somewhere", payload={"n": 1}, key=key, **kwargs)


def test_the_same_key_returns_the_existing_row_and_sends_once(recording, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = enqueue(key="41:notifications:ana@example.com")
        again = enqueue(key="41:notifications:ana@example.com")
    assert first.created and not again.created and again.pk == first.pk
    assert Delivery.objects.count() == 1 and recording.sent == [first.pk]
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(key="41:notifications:ana@example.com")  # the event handled again later
    assert recording.sent == [first.pk]
    first.refresh_from_db()
    assert (first.status, first.attempts, first.external_id) == (DeliveryStatus.SENT, 1, f"remote-{first.pk}")


def test_a_bulk_enqueue_writes_each_key_once_and_sends_only_the_new_rows(recording,
                                                                         django_capture_on_commit_callbacks):
    def item(key):
        return {"transport": "recording", "target": "somewhere", "payload": {"key": key}, "key": key}

    with django_capture_on_commit_callbacks(execute=True):
        earlier = enqueue(key="7:a")
    with django_capture_on_commit_callbacks(execute=True):
        rows = deliveries_enqueue([item("7:a"), item("7:b"), item("7:b"), item(None), item("7:c")])
    assert [r.created for r in rows] == [False, True, False, True, True]
    assert rows[0].pk == earlier.pk and rows[1].pk == rows[2].pk
    assert Delivery.objects.count() == 4
    assert sorted(recording.sent) == sorted([earlier.pk, rows[1].pk, rows[3].pk, rows[4].pk])
    with django_capture_on_commit_callbacks(execute=True):  # the same batch again: nothing new, nothing sent
        assert not any(r.created for r in deliveries_enqueue([item("7:a"), item("7:b"), item("7:c")]))
    assert Delivery.objects.count() == 4 and len(recording.sent) == 4


def test_rows_without_a_key_are_never_merged(recording):
    assert enqueue().pk != enqueue().pk and Delivery.objects.filter(key__isnull=True).count() == 2


def test_very_long_keys_are_hashed_to_fit_and_still_deduplicate(recording):
    key = "9:" + "x" * 400
    first, again = enqueue(key=key), enqueue(key=key)
    assert again.pk == first.pk and len(first.key) == 64


def test_an_unknown_transport_is_refused_before_anything_is_written():
    with pytest.raises(ImproperlyConfigured, match="carrier-pigeon"):
        delivery_enqueue(transport="carrier-pigeon", target="x", payload={})
    assert not Delivery.objects.exists()


def test_a_transport_that_cannot_be_imported_fails_loudly(settings):
    settings.OUTBOUND_TRANSPORTS = {"mail": "atende.email_channel.transports.NoSuchTransport"}
    with pytest.raises(ImproperlyConfigured, match="mail.*cannot be imported"):
        transports_load()
    settings.OUTBOUND_TRANSPORTS = {"mail": "atende.outbound.services.backoff_delay"}
    with pytest.raises(ImproperlyConfigured, match="not a Transport"):
        transports_load()


@pytest.mark.parametrize("attempts", range(1, 16))
@pytest.mark.parametrize("rand", [0.0, 0.5, 0.999])
def test_backoff_doubles_up_to_six_hours_with_at_most_ten_percent_jitter(attempts, rand):
    step = min(60 * 2 ** (attempts - 1), BACKOFF_CAP.total_seconds())
    delay = backoff_delay(attempts, base_seconds=60, rand=rand).total_seconds()
    assert delay == pytest.approx(step * (1 - 0.1 * rand))
    assert 0.9 * step < delay <= step


def test_failures_back_off_then_give_up_visibly(recording, django_capture_on_commit_callbacks):
    recording.fail_with = "HTTP 503"
    with django_capture_on_commit_callbacks(execute=True):
        row = enqueue()
    waits = []
    for _ in range(2):
        row.refresh_from_db()
        assert row.status == DeliveryStatus.FAILED
        waits.append((row.next_attempt_at - row.last_attempt_at).total_seconds())
        assert deliveries_drain() == 0  # not due yet
        Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        assert deliveries_drain() == 1
    assert 9 <= waits[0] <= 10.5 and 18 <= waits[1] <= 20.5  # 10 s then 20 s, minus the jitter
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == (DeliveryStatus.GIVEN_UP, 3, None)
    assert row.last_error == "HTTP 503" and row.last_status_code == 503
    log = list(row.attempt_log.values_list("number", "outcome", "status_code"))
    assert log == [(1, "failed", 503), (2, "failed", 503), (3, "failed", 503)]
    assert deliveries_drain() == 0 and recording.sent == []


def test_an_expired_lease_is_taken_over_by_the_next_drain(recording):
    row = enqueue()
    [claimed] = deliveries_claim()  # a worker claims it, then dies before sending
    assert claimed.pk == row.pk and claimed.status == DeliveryStatus.SENDING and claimed.lease_until
    assert deliveries_drain() == 0 and recording.sent == []  # its lease still holds
    later = timezone.now() + dt.timedelta(seconds=121)
    [taken] = deliveries_claim(now=later)
    assert taken.pk == row.pk and taken.attempts == 2 and taken.claim_token != claimed.claim_token
    _attempt(taken)
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and recording.sent == [row.pk]
    assert list(row.attempt_log.values_list("number", "outcome")) == [(1, "lost"), (2, "sent")]
    # The first worker wakes up and reports: its result is too late and changes nothing.
    _attempt(claimed)
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.attempt_log.count() == 2


def test_claims_are_batched_and_a_claimed_row_is_not_claimed_twice(recording):
    for _ in range(7):
        enqueue()
    first = deliveries_claim(limit=5)
    second = deliveries_claim(limit=5)
    assert len(first) == 5 and len(second) == 2
    assert not {d.pk for d in first} & {d.pk for d in second}
    assert deliveries_claim(limit=5) == []


def test_a_drain_sends_everything_due_in_batches(recording):
    rows = [enqueue() for _ in range(12)]
    assert deliveries_drain(batch_size=5) == 12
    assert sorted(recording.sent) == sorted(r.pk for r in rows)
    assert DeliveryAttempt.objects.filter(outcome=AttemptOutcome.SENT).count() == 12


def test_send_now_forces_a_waiting_row_and_retry_resends_one_given_up(recording, agent,
                                                                       django_capture_on_commit_callbacks):
    recording.fail_with = "down"
    row = enqueue(max_attempts=1)
    delivery_send(delivery_id=row.pk)
    row.refresh_from_db()
    assert row.status == DeliveryStatus.GIVEN_UP
    recording.fail_with = ""
    with django_capture_on_commit_callbacks(execute=True):
        delivery_retry(delivery=row, actor=Actor.for_user(agent))
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.attempts == 2 and recording.sent == [row.pk]


def test_a_cancelled_row_is_never_sent(recording, agent):
    row = enqueue()
    delivery_cancel(delivery=row, actor=Actor.for_user(agent))
    assert deliveries_drain() == 0 and recording.sent == []
    row.refresh_from_db()
    assert row.status == DeliveryStatus.CANCELLED and agent.email in row.last_error


@pytest.mark.parametrize("header", ["<abc.1@atende.test>", "abc.1@atende.test", "  <abc.1@atende.test> "])
def test_a_bounce_marks_the_delivery_by_its_message_id(recording, header):
    row = enqueue(external_id="<abc.1@atende.test>")
    delivery_send(delivery_id=row.pk)
    bounced = delivery_mark_bounced(message_id_header=header, reason="550 5.1.1 user unknown")
    assert bounced.pk == row.pk
    row.refresh_from_db()
    assert (row.status, row.last_error) == (DeliveryStatus.BOUNCED, "550 5.1.1 user unknown")
    assert delivery_mark_bounced(message_id_header="<other@x>", reason="r") is None
    assert delivery_mark_bounced(reason="nothing to find it by") is None


def test_a_bounce_can_also_find_the_delivery_by_key(recording):
    row = enqueue(key="7:notifications:ana@example.com")
    assert delivery_mark_bounced(key="7:notifications:ana@example.com", reason="full").pk == row.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_at_once_never_share_a_row(recording):
    Delivery.objects.bulk_create([Delivery(transport="recording", target="x", next_attempt_at=timezone.now())
                                  for _ in range(60)])  # queued, not yet sent by their on-commit task
    results: dict[str, list[int]] = {}
    barrier = threading.Barrier(2)

    def worker(name):
        try:
            barrier.wait()
            results[name] = [d.pk for d in deliveries_claim(limit=40)]
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(results["a"]) & set(results["b"])
    assert len(results["a"]) + len(results["b"]) == 60
    assert Delivery.objects.filter(status=DeliveryStatus.SENDING).count() == 60


def test_a_batch_hands_all_its_deliveries_to_one_task(recording, django_capture_on_commit_callbacks):
    """An events batch queuing many emails makes one worker task, not one per email."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks, batch_scope():
        rows = [enqueue(key=f"77:notifications:{n}@example.com") for n in range(5)]
    sends = [c for c in callbacks if type(c).__name__ == "_SendAfterCommit"]
    assert len(sends) == 1 and sends[0].ids == [r.pk for r in rows]
    assert sorted(recording.sent) == sorted(r.pk for r in rows)  # and every one was sent


def test_a_rolled_back_event_in_a_batch_does_not_lose_the_others(recording, django_capture_on_commit_callbacks):

    with django_capture_on_commit_callbacks(execute=True), batch_scope():
        try:
            with transaction.atomic():
                enqueue(key="78:a")
                raise RuntimeError("the subscriber failed on this event")
        except RuntimeError:
            pass
        kept = enqueue(key="78:b")
    assert Delivery.objects.filter(key="78:a").count() == 0
    assert recording.sent == [kept.pk]


def test_outside_a_batch_each_delivery_is_sent_after_its_own_commit(recording, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        rows = [enqueue(), enqueue()]
    assert len(callbacks) == 2 and sorted(recording.sent) == sorted(r.pk for r in rows)


def test_a_claim_leases_each_row_for_one_send_and_each_result_renews_the_rest(recording):
    """A worker killed during a batch: the rows it never reached are taken over one send's lease after its last
    progress, whatever their place in the batch (a batch of mail behind webhooks used to wait a lease per row
    before it); a live worker sending them in order keeps every claim."""
    rows = [enqueue() for _ in range(3)]
    now = timezone.now()
    claimed = deliveries_claim(now=now)
    assert [d.pk for d in claimed] == [r.pk for r in rows]
    lease = dt.timedelta(seconds=recording.lease_seconds)
    assert [d.lease_until for d in claimed] == [now + lease] * 3
    assert deliveries_claim(now=now + lease - dt.timedelta(seconds=1)) == []
    retaken = deliveries_claim(now=now + lease + dt.timedelta(seconds=1))  # died before sending any
    assert [d.pk for d in retaken] == [r.pk for r in rows]

    Delivery.objects.update(status=DeliveryStatus.PENDING, lease_until=None, lease_token="", next_attempt_at=now)
    claimed = deliveries_claim()
    before = timezone.now()
    assert _attempt(claimed[0]).status == DeliveryStatus.SENT
    rest = Delivery.objects.filter(pk__in=[claimed[1].pk, claimed[2].pk])
    assert all(d.status == DeliveryStatus.SENDING and d.lease_until >= before + lease for d in rest)
    assert [_attempt(d).status for d in claimed[1:]] == [DeliveryStatus.SENT, DeliveryStatus.SENT]


def test_the_mail_lease_follows_the_smtp_timeout(settings):
    from atende.email_channel.transports import MailTransport

    settings.EMAIL_TIMEOUT = 30
    assert MailTransport().lease_seconds == 120
    settings.EMAIL_TIMEOUT = 5
    assert MailTransport().lease_seconds == 60


def test_a_batch_send_claims_its_rows_together_and_a_second_run_sends_nothing(recording):
    rows = [enqueue() for _ in range(4)]
    cancelled = enqueue()
    Delivery.objects.filter(pk=cancelled.pk).update(status=DeliveryStatus.CANCELLED)
    ids = [r.pk for r in rows] + [cancelled.pk]
    first = deliveries_send(delivery_ids=ids)
    assert sorted(recording.sent) == [r.pk for r in rows]
    assert {pk: d.status for pk, d in first.items()} == {**{r.pk: DeliveryStatus.SENT for r in rows},
                                                         cancelled.pk: DeliveryStatus.CANCELLED}
    again = deliveries_send(delivery_ids=ids)  # the task run once more (a worker retried it)
    assert sorted(recording.sent) == [r.pk for r in rows] and set(again) == set(ids)
    assert DeliveryAttempt.objects.count() == 4
