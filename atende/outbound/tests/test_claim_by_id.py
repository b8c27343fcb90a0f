"""A claim of given deliveries (the worker's send task, "send now") finds them by id, whatever state the queue's
partial indexes are in, and takes exactly the rows the general claim would take among them."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from atende.outbound.choices import DeliveryStatus
from atende.outbound.models import Delivery
from atende.outbound.services import deliveries_claim, delivery_enqueue
from atende.outbound.services.record import Outcome, outcomes_record
from atende.outbound.services.send import _due

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def _every_state(now: dt.datetime) -> list[int]:
    """One row for each status × due time × lease: none, past, future."""
    ids = []
    times = (None, now - HOUR, now + HOUR)
    for n, (status, due, lease) in enumerate(itertools.product(DeliveryStatus.values, times, times)):
        row = delivery_enqueue(transport="recording", target="somewhere", payload={"n": n}, key=f"state-{n}")
        Delivery.objects.filter(pk=row.pk).update(status=status, next_attempt_at=due, lease_until=lease)
        ids.append(row.pk)
    return ids


@pytest.mark.parametrize("force", [False, True])
def test_a_claim_by_id_takes_exactly_the_due_rows_among_them(recording, force):
    now = timezone.now()
    ids = _every_state(now)
    expected = set(Delivery.objects.filter(_due(now, force=force), pk__in=ids).values_list("pk", flat=True))
    assert expected and expected != set(ids)  # the matrix holds rows of both kinds
    asked = ids[::2] + ids[1::2]  # order does not matter
    with transaction.atomic():
        claimed = deliveries_claim(ids=asked, limit=len(ids), force=force, now=now)
        transaction.set_rollback(True)
    assert {d.pk for d in claimed} == expected
    assert all(d.status == DeliveryStatus.SENDING and d.claim_ids == [c.pk for c in claimed] for d in claimed)


def test_a_recording_renews_only_the_rest_of_its_own_claim(recording):
    rows = [delivery_enqueue(transport="recording", target="somewhere", payload={"n": n}) for n in range(4)]
    claimed_at = timezone.now()
    mine = deliveries_claim(ids=[r.pk for r in rows[:3]], limit=3, now=claimed_at)
    other = deliveries_claim(ids=[rows[3].pk], limit=1, now=claimed_at)
    before = timezone.now()
    outcomes_record([Outcome(mine[0], error="refused")])
    leases = dict(Delivery.objects.values_list("pk", "lease_until"))
    lease = dt.timedelta(seconds=recording.lease_seconds)
    assert leases[mine[1].pk] == leases[mine[2].pk] >= before + lease  # the rest of the claim: one more send each
    assert leases[other[0].pk] == claimed_at + lease  # another claim's row is left alone


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's EXPLAIN")
def test_on_postgresql_a_claim_by_id_reads_the_rows_by_primary_key(recording):
    """The partial indexes of waiting and sending rows keep an entry for every row that passed through those
    statuses until VACUUM: a claim that went through them read every delivery ever sent (182 ms for 50 ids at
    138,000 sent deliveries). Every statement of a claim by id and of its recording must use the primary key."""
    rows = [delivery_enqueue(transport="recording", target="somewhere", payload={"n": n}) for n in range(60)]
    with CaptureQueriesContext(connection) as captured:
        claimed = deliveries_claim(ids=[r.pk for r in rows[:50]], limit=50)
        outcomes_record([Outcome(claimed[0], error="refused")])
    statements = [q["sql"] for q in captured.captured_queries
                  if q["sql"].startswith(("SELECT", "UPDATE")) and 'FROM "outbound_delivery"' in q["sql"]
                  or q["sql"].startswith('UPDATE "outbound_delivery"')]
    assert len(statements) >= 4  # the candidates, the lease, the claimed rows, the rest renewed
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a small table is read whole otherwise: ask for an index
        try:
            for sql in statements:
                cursor.execute("EXPLAIN " + sql)
                plan = " ".join(row[0] for row in cursor.fetchall())
                assert "outbound_delivery_pkey" in plan, (sql, plan)
                assert "outbound_delivery_due" not in plan and "outbound_delivery_leased" not in plan, (sql, plan)
        finally:
            cursor.execute("RESET enable_seqscan")
