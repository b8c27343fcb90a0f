"""The delivery engine's sending half: claim with a lease, send through the transport outside
any transaction, record the attempt, retry with exponential backoff and jitter, give up after the last one.

Claiming is safe with any number of workers: on PostgreSQL candidates are locked with ``SKIP LOCKED``; on every
database the claiming UPDATE re-checks that the row is still due and stamps it with this claim's token, so
two workers never both send the same row (SQLite has one writer at a time). A worker that dies while sending
leaves its lease to expire; the next drain takes the row over and logs the lost attempt.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import random
import time
import uuid
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from atende.outbound.choices import WAITING_STATUSES, AttemptOutcome, DeliveryStatus
from atende.outbound.models import Delivery, DeliveryAttempt
from atende.outbound.transports import (
    DeliveryCancelled,
    DeliveryFailed,
    DeliveryHeld,
    DeliveryRefused,
    SendResult,
    transport_get,
)

logger = logging.getLogger(__name__)

BACKOFF_CAP = dt.timedelta(hours=6)
JITTER = 0.1  # each wait is 90-100 % of the exponential step, so retries of one outage spread out
BATCH_SIZE = 50
MAX_BATCHES = 40  # one drain sends at most 2,000 deliveries, then lets the next tick continue


def backoff_delay(attempts: int, *, base_seconds: float, rand: float | None = None) -> dt.timedelta:
    """Wait after the ``attempts``-th failure: base, 2×base, 4×base… capped at 6 hours, minus up to 10 %."""
    step = min(base_seconds * (2 ** max(attempts - 1, 0)), BACKOFF_CAP.total_seconds())
    rand = random.random() if rand is None else rand  # noqa: S311 - spreading retries, not a secret
    return dt.timedelta(seconds=step * (1 - JITTER * rand))


def _due(now: dt.datetime, *, force: bool = False) -> Q:
    waiting = Q(status__in=WAITING_STATUSES) if force else Q(status__in=WAITING_STATUSES, next_attempt_at__lte=now)
    return waiting | Q(status=DeliveryStatus.SENDING, lease_until__lt=now)


def deliveries_claim(*, limit: int = BATCH_SIZE, ids: list[int] | None = None, force: bool = False,
                     now: dt.datetime | None = None) -> list[Delivery]:
    """Take up to ``limit`` due deliveries for this worker (status ``sending`` with a lease). ``force`` takes
    waiting rows before their due time (an administrator's "send now")."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    due = _due(now, force=force)
    with transaction.atomic():
        candidates = Delivery.objects.filter(due)
        if ids is not None:
            candidates = candidates.filter(pk__in=ids)
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        rows = list(candidates.order_by("next_attempt_at", "id").values_list("pk", "transport", "status",
                                                                              "attempts")[:limit])
        by_transport: dict[str, list[int]] = defaultdict(list)
        for pk, transport, _status, _attempts in rows:
            by_transport[transport].append(pk)
        leases = {transport: transport_get(transport).lease_seconds for transport in by_transport}
        for transport, pks in by_transport.items():
            # Every row is leased for one send; each result recorded renews the lease of the rows not sent yet
            # (``_renew_rest``). A worker killed mid-claim leaves its unsent rows to be taken over one send's
            # lease after its last progress, whatever their place in the claim or their transport.
            Delivery.objects.filter(due, pk__in=pks).update(
                status=DeliveryStatus.SENDING, lease_until=now + dt.timedelta(seconds=leases[transport]),
                lease_token=token, attempts=F("attempts") + 1, last_attempt_at=now)
        claimed = list(Delivery.objects.filter(lease_token=token, status=DeliveryStatus.SENDING).order_by("id"))
        taken = {d.pk for d in claimed}
        DeliveryAttempt.objects.bulk_create([
            DeliveryAttempt(delivery_id=pk, number=attempts, outcome=AttemptOutcome.LOST, created_at=now,
                            error="The worker stopped before recording the result; its lease expired.")
            for pk, _transport, status, attempts in rows if status == DeliveryStatus.SENDING and pk in taken])
    for delivery in claimed:
        delivery.claim_token, delivery.claim_leases = token, leases
    return claimed


def _renew_rest(delivery: Delivery, now: dt.datetime) -> None:
    """The claim's rows not sent yet stay this worker's for one more send each, from now (one statement, in the
    transaction that records ``delivery``)."""
    leases = getattr(delivery, "claim_leases", None) or {delivery.transport: transport_get(delivery.transport).lease_seconds}
    (Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_token=delivery.claim_token).exclude(pk=delivery.pk)
     .update(lease_until=Case(*(When(transport=transport, then=Value(now + dt.timedelta(seconds=seconds)))
                                for transport, seconds in leases.items()), default=F("lease_until"))))


def _attempt(delivery: Delivery) -> Delivery:
    """Send one claimed delivery (no transaction is open) and record how it went."""
    sender = transport_get(delivery.transport)
    started = time.monotonic()
    result, error, status_code, excerpt, final = None, "", None, "", False
    try:
        result = sender.send(delivery)
    except DeliveryHeld:
        return _release(delivery, cancelled_reason=None)
    except DeliveryCancelled as exc:
        return _release(delivery, cancelled_reason=str(exc) or "cancelled")
    except DeliveryFailed as exc:
        error, status_code, excerpt = str(exc) or "failed", exc.status_code, exc.response_excerpt
        final = isinstance(exc, DeliveryRefused)
    except Exception as exc:  # any transport error is recorded and retried
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    if result is not None:
        status_code, excerpt = result.status_code, result.response_excerpt
    else:
        logger.info("outbound delivery %s (%s → %s) failed: %s", delivery.pk, delivery.transport, delivery.target,
                    error)
    return _record(delivery, result=result, error=error, status_code=status_code, excerpt=excerpt,
                   duration_ms=duration_ms, final=final)


def _still_ours(delivery: Delivery) -> Delivery | None:
    """The row, locked, if this worker's claim still holds it (a lease taken over means the result is late)."""
    return (Delivery.objects.select_for_update()
            .filter(pk=delivery.pk, status=DeliveryStatus.SENDING, lease_token=delivery.claim_token).first())


@transaction.atomic
def _record(delivery: Delivery, *, result: SendResult | None, error: str, status_code: int | None, excerpt: str,
            duration_ms: int, final: bool = False) -> Delivery:
    """Record one attempt right after the answer was read. The first statement is the conditional UPDATE that
    settles the row (only while this worker's claim still holds it), so the time between the far side accepting
    a delivery and the row saying so is one short transaction; a worker killed in that gap leaves the row to be
    sent again after its lease, with the same delivery id and bytes (receivers drop the repeat)."""
    now = timezone.now()
    sender = transport_get(delivery.transport)
    row = copy.copy(delivery)
    row.lease_until, row.lease_token = None, ""
    row.last_error, row.last_status_code = error[:2000], status_code
    if result is not None:
        row.status, row.sent_at, row.next_attempt_at = DeliveryStatus.SENT, now, None
        row.external_id = result.external_id or row.external_id
    elif final or row.attempts >= row.max_attempts:
        row.status, row.next_attempt_at = DeliveryStatus.GIVEN_UP, None
    else:
        row.status = DeliveryStatus.FAILED
        row.next_attempt_at = now + backoff_delay(row.attempts, base_seconds=sender.retry_base_seconds())
    fields = ["status", "sent_at", "next_attempt_at", "external_id", "lease_until", "lease_token", "last_error",
              "last_status_code"]
    settled = (Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING, lease_token=delivery.claim_token)
               .update(**{name: getattr(row, name) for name in fields}))
    if not settled:
        logger.warning("outbound delivery %s: result arrived after its lease was taken over", delivery.pk)
        return Delivery.objects.get(pk=delivery.pk)
    _renew_rest(delivery, now)
    if row.status == DeliveryStatus.GIVEN_UP:
        logger.warning("outbound delivery %s given up after %s attempts: %s", row.pk, row.attempts, error)
    attempt = DeliveryAttempt.objects.create(
        delivery=row, number=row.attempts, outcome=AttemptOutcome.SENT if result else AttemptOutcome.FAILED,
        error=error[:2000], status_code=status_code, response_excerpt=excerpt[:1000], duration_ms=duration_ms,
        created_at=now)
    sender.attempt_recorded(row, attempt)
    return row


@transaction.atomic
def _release(delivery: Delivery, *, cancelled_reason: str | None) -> Delivery:
    """Give a claimed row back without counting an attempt: held (no due time) or cancelled."""
    row = _still_ours(delivery)
    if row is None:
        return Delivery.objects.get(pk=delivery.pk)
    _renew_rest(delivery, timezone.now())
    row.attempts -= 1
    row.lease_until, row.lease_token, row.next_attempt_at = None, "", None
    if cancelled_reason is not None:
        row.status, row.last_error = DeliveryStatus.CANCELLED, cancelled_reason[:2000]
    else:
        row.status = DeliveryStatus.FAILED if row.attempts else DeliveryStatus.PENDING
    row.save(update_fields=["attempts", "lease_until", "lease_token", "next_attempt_at", "status", "last_error"])
    return row


def delivery_send(*, delivery_id: int, force: bool = False) -> Delivery | None:
    """One attempt at one delivery now, if it is due (or waiting, with ``force``); otherwise nothing happens.
    Returns the row as it is afterwards."""
    for delivery in deliveries_claim(ids=[delivery_id], limit=1, force=force):
        return _attempt(delivery)
    return Delivery.objects.filter(pk=delivery_id).first()


def deliveries_send(*, delivery_ids: list[int]) -> dict[int, Delivery]:
    """One attempt at each of these deliveries that is due, claimed together and sent per transport in one batch
    (one SMTP connection for a batch's mail). Returns the rows as they are afterwards, by id."""
    done = {d.pk: d for d in _send_claimed(deliveries_claim(ids=list(delivery_ids), limit=len(delivery_ids)))}
    rest = [pk for pk in delivery_ids if pk not in done]
    return {**done, **Delivery.objects.in_bulk(rest)} if rest else done


def _send_claimed(claimed: list[Delivery]) -> list[Delivery]:
    by_transport: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in claimed:
        by_transport[delivery.transport].append(delivery)
    sent = []
    for transport, deliveries in by_transport.items():
        with transport_get(transport).batch():
            sent.extend(_attempt(delivery) for delivery in deliveries)
    return sent


def deliveries_drain(*, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES) -> int:
    """Send every due delivery, ``batch_size`` claimed at a time. Returns how many were attempted."""
    attempted = 0
    for _ in range(max_batches):
        claimed = deliveries_claim(limit=batch_size)
        _send_claimed(claimed)
        attempted += len(claimed)
        if len(claimed) < batch_size:
            break
    return attempted
