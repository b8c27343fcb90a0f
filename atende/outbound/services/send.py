"""The delivery engine's sending half: claim with a lease, send through the transport outside
any transaction, record the results (``record.py``), retry with exponential backoff and jitter, give up after
the last one.

Claiming is safe with any number of workers: on PostgreSQL candidates are locked with ``SKIP LOCKED``; on every
database the claiming UPDATE re-checks that the row is still due and stamps it with this claim's token, so
two workers never both send the same row (SQLite has one writer at a time). A worker that dies while sending
leaves its lease to expire; the next drain takes the row over and logs the lost attempt. A worker that dies
after the far side accepted a delivery and before its result was recorded leaves it the same way: it is sent
again, as the same delivery (at least once; receivers drop the repeat by its id).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from atende.outbound.choices import WAITING_STATUSES, AttemptOutcome, DeliveryStatus
from atende.outbound.models import Delivery, DeliveryAttempt
from atende.outbound.services.record import Outcome, outcomes_record, unindexed
from atende.outbound.transports import (
    DeliveryCancelled,
    DeliveryFailed,
    DeliveryHeld,
    DeliveryRefused,
    transport_get,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
MAX_BATCHES = 40  # one drain sends at most 2,000 deliveries, then lets the next tick continue
# Results sent are recorded together, at the latest before the first send that starts this long after the last
# recording: the window in which a killed worker leaves sent deliveries to be sent again, and the longest a
# recording waits, is this plus one send (far below every transport's lease margin).
RECORD_EVERY = 0.5


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
    due_among = unindexed(due)  # for rows chosen by id: the ids are the way in
    with transaction.atomic():
        if ids is None:
            candidates = Delivery.objects.filter(due)
        else:
            candidates = Delivery.objects.filter(due_among, pk__in=ids)
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        rows = list(candidates.order_by("next_attempt_at", "id").values_list("pk", "transport", "status",
                                                                              "attempts")[:limit])
        by_transport: dict[str, list[int]] = defaultdict(list)
        for pk, transport, _status, _attempts in rows:
            by_transport[transport].append(pk)
        leases = {transport: transport_get(transport).lease_seconds for transport in by_transport}
        for transport, pks in by_transport.items():
            # Every row is leased for one send; each recording of results renews the lease of the rows not sent
            # yet (``record._renew_rest``). A worker killed mid-claim leaves its unsent rows to be taken over one send's
            # lease after its last progress, whatever their place in the claim or their transport.
            Delivery.objects.filter(due_among, pk__in=pks).update(
                status=DeliveryStatus.SENDING, lease_until=now + dt.timedelta(seconds=leases[transport]),
                lease_token=token, attempts=F("attempts") + 1, last_attempt_at=now)
        # This claim's token was written in this transaction, with status "sending": the token alone says so.
        claimed = list(Delivery.objects.filter(pk__in=[pk for pk, *_rest in rows], lease_token=token).order_by("id"))
        taken = {d.pk for d in claimed}
        DeliveryAttempt.objects.bulk_create([
            DeliveryAttempt(delivery_id=pk, number=attempts, outcome=AttemptOutcome.LOST, created_at=now,
                            error="The worker stopped before recording the result; its lease expired.")
            for pk, _transport, status, attempts in rows if status == DeliveryStatus.SENDING and pk in taken])
    claim_ids = [d.pk for d in claimed]  # the rows a recording renews (``record._renew_rest``), found by id
    for delivery in claimed:
        delivery.claim_token, delivery.claim_leases, delivery.claim_ids = token, leases, claim_ids
    return claimed


def _try(delivery: Delivery) -> Outcome:
    """Send one claimed delivery (no transaction is open) and say how it went, writing nothing."""
    sender = transport_get(delivery.transport)
    started = time.monotonic()
    try:
        result = sender.send(delivery)
    except DeliveryHeld:
        return Outcome(delivery, release="held")
    except DeliveryCancelled as exc:
        return Outcome(delivery, release="cancelled", reason=str(exc) or "cancelled")
    except DeliveryFailed as exc:
        outcome = Outcome(delivery, error=str(exc) or "failed", status_code=exc.status_code,
                          excerpt=exc.response_excerpt, final=isinstance(exc, DeliveryRefused))
    except Exception as exc:  # any transport error is recorded and retried
        outcome = Outcome(delivery, error=f"{type(exc).__name__}: {exc}")
    else:
        outcome = Outcome(delivery, result=result, status_code=result.status_code,
                          excerpt=result.response_excerpt)
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    if outcome.failed:
        logger.info("outbound delivery %s (%s → %s) failed: %s", delivery.pk, delivery.transport, delivery.target,
                    outcome.error)
    return outcome


def _attempt(delivery: Delivery) -> Delivery:
    """Send one claimed delivery and record how it went at once."""
    return outcomes_record([_try(delivery)])[delivery.pk]


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
    """Send a claim per transport in one batch each, and record the results a group at a time: whatever has
    been sent when ``RECORD_EVERY`` has passed since the last recording (checked before each send), a failed
    attempt before the next send (its effects, a webhook's failure count, come before that send as when each
    result had its own transaction), and the rest at the end. Each recording renews the leases of the rows not
    sent yet."""
    by_transport: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in claimed:
        by_transport[delivery.transport].append(delivery)
    done: dict[int, Delivery] = {}
    pending: list[Outcome] = []
    recorded_at = time.monotonic()
    for transport, deliveries in by_transport.items():
        with transport_get(transport).batch():
            for delivery in deliveries:
                if pending and time.monotonic() - recorded_at >= RECORD_EVERY:
                    done.update(outcomes_record(pending))
                    pending, recorded_at = [], time.monotonic()
                pending.append(_try(delivery))
                if pending[-1].failed:
                    done.update(outcomes_record(pending))
                    pending, recorded_at = [], time.monotonic()
    done.update(outcomes_record(pending))
    return [done[d.pk] for d in claimed if d.pk in done]


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
