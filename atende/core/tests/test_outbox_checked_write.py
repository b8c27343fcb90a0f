"""The checked cursor advance, its SQL compiled once per connection: the same statement and parameters as the
ORM's ``filter(...).update(...)``, the same row written, and nothing written when the cursor moved or is taken."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from django.db import connection, connections
from django.db.models import Q
from django.db.models.sql.subqueries import UpdateQuery
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from atende.core import prepared
from atende.core.models import SubscriberCursor
from atende.core.outbox import passes
from atende.core.outbox.passes import ADVANCE_FIELDS
from atende.core.prepared import same_params

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)


def kept() -> dict:
    return connections["default"].__dict__.get(prepared._UPDATES, {})


@pytest.fixture(autouse=True)
def fresh_connection_state():
    connections["default"].__dict__.pop(prepared._UPDATES, None)
    yield
    connections["default"].__dict__.pop(prepared._UPDATES, None)


def cursor(**fields) -> SubscriberCursor:
    return SubscriberCursor.objects.create(subscriber="first", partition=0, position=10, gaps=[[3, 4, 1.5]],
                                           lease_owner="w1", lease_until=NOW + dt.timedelta(seconds=15), **fields)


def advanced(read: SubscriberCursor, **changes) -> SubscriberCursor:
    new = copy.copy(read)
    new.gaps = list(read.gaps)
    for name, value in {"position": 20, "gaps": [[12, 12, 2.5]], "processed_total": 7, "rate_window_count": 7,
                        "recent_rate": 0.25, "last_batch_at": NOW, "lease_until": NOW + dt.timedelta(seconds=15),
                        **changes}.items():
        setattr(new, name, value)
    return new


def orm_statement(new: SubscriberCursor, owner: str, read: SubscriberCursor, now: dt.datetime):
    held = Q(lease_until__isnull=True) | Q(lease_until__gte=now)
    query = SubscriberCursor.objects.filter(held, pk=new.pk, lease_owner=owner, position=read.position,
                                            gaps=read.gaps).query.chain(UpdateQuery)
    query.add_update_values({name: getattr(new, name) for name in ADVANCE_FIELDS})
    sql, params = query.get_compiler("default").as_sql()
    return sql, list(params)


@pytest.mark.parametrize("changes", [{}, {"rate_window_start": NOW, "last_batch_at": None},
                                     {"gaps": [], "lease_until": None}])
def test_the_advance_is_the_orm_statement_and_writes_the_same_row(changes):
    read = cursor()
    new = advanced(read, **changes)
    expected_sql, expected_params = orm_statement(new, "w1", read, NOW)
    statements = []
    for _attempt in range(2):  # compiled by the ORM and checked, then run from the kept SQL
        with CaptureQueriesContext(connection) as queries:
            assert passes.cursor_write(new, "w1", read_at=read.position, read_gaps=read.gaps, now=NOW)
        statements += [q["sql"] for q in queries]
        assert list(kept().values()) == [expected_sql]  # the backend prepares the values alike: kept
        row = SubscriberCursor.objects.get(pk=read.pk)
        for name in ADVANCE_FIELDS:
            assert getattr(row, name) == getattr(new, name), name
        SubscriberCursor.objects.filter(pk=read.pk).update(position=read.position, gaps=read.gaps)
    assert len(statements) == 2 and statements[0] == statements[1]
    assert same_params(passes._advance_params(new, "w1", read.position, read.gaps, NOW,
                                                      connections["default"]), tuple(expected_params))


@pytest.mark.parametrize("moved", ["position", "gaps", "owner", "lease"])
def test_a_cursor_moved_or_taken_is_left_as_it_is(moved):
    read = cursor()
    new = advanced(read)
    assert passes.cursor_write(new, "w1", read_at=read.position, read_gaps=read.gaps, now=NOW)  # shape kept
    SubscriberCursor.objects.filter(pk=read.pk).update(position=read.position, gaps=read.gaps)
    read_at, read_gaps, owner, now = read.position, read.gaps, "w1", NOW
    if moved == "position":
        read_at = 11
    elif moved == "gaps":
        read_gaps = [[3, 5, 1.5]]
    elif moved == "owner":
        owner = "w2"
    else:
        now = timezone.now() + dt.timedelta(days=1)
    assert not passes.cursor_write(advanced(read, position=30), owner, read_at=read_at, read_gaps=read_gaps,
                                   now=now)
    assert SubscriberCursor.objects.get(pk=read.pk).position == read.position


def test_idle_advances_are_written_together_from_the_kept_sql():
    """Two cursors read at the same place share one statement; a third, read elsewhere and with its rate window
    turned over, has its own; one moved since it was read is left as it is. Twice: the ORM's, then the kept SQL."""
    for attempt in range(2):
        SubscriberCursor.objects.all().delete()
        reads = [SubscriberCursor.objects.create(subscriber=name, partition=0, position=10, gaps=[], lease_owner="w1",
                                                 lease_until=timezone.now() + dt.timedelta(seconds=15))
                 for name in ("a", "b", "c", "d")]
        SubscriberCursor.objects.filter(subscriber="d").update(position=11)  # moved by another worker
        state = passes.Pass()
        for read in reads:
            new = advanced(read, position=15, gaps=[[12, 12, 2.5]])
            if read.subscriber == "c":
                new.rate_window_start, new.rate_window_count, new.recent_rate = NOW, 3, 0.5
            state.idle[(read.subscriber, 0)] = (new, "w1", read)
        with CaptureQueriesContext(connection) as queries:
            passes.idle_flush(state)
        assert len([q for q in queries if q["sql"].startswith("UPDATE")]) == 2
        rows = {c.subscriber: c for c in SubscriberCursor.objects.all()}
        assert [rows[name].position for name in "abcd"] == [15, 15, 15, 11]
        assert rows["a"].gaps == rows["c"].gaps == [[12, 12, 2.5]] and rows["d"].gaps == []
        assert rows["a"].rate_window_count == 0 and rows["c"].rate_window_count == 3 and rows["c"].recent_rate == 0.5
        assert rows["a"].last_batch_at is not None and rows["c"].rate_window_start is not None
        assert len(kept()) == 2 and all(kept().values()), attempt


def test_a_lease_claim_runs_from_the_kept_sql_and_claims_as_the_orm_did():
    from atende.core import events
    from atende.core.outbox import dispatch

    unit = dispatch.Unit(events.Subscriber("first", "atende.core.testing.subscribers.first"), 0, 1)
    read = cursor()  # held by w1 until NOW + 15 s
    for _attempt in range(2):  # compiled by the ORM and checked, then run from the kept SQL
        SubscriberCursor.objects.filter(pk=read.pk).update(lease_owner="w1", lease_until=read.lease_until)
        assert not dispatch.lease_claim(unit, "w2", now=NOW)  # another live worker's
        assert dispatch.lease_claim(unit, "w1", now=NOW)  # renewed
        assert dispatch.lease_claim(unit, "w2", now=NOW + dt.timedelta(minutes=1))  # expired: taken
        row = SubscriberCursor.objects.get(pk=read.pk)
        assert (row.lease_owner, row.lease_until) == ("w2", NOW + dt.timedelta(minutes=1, seconds=15))
        SubscriberCursor.objects.filter(pk=read.pk).update(lease_owner="", lease_until=None)
        assert dispatch.lease_claim(unit, "w3", now=NOW)  # free
        assert list(kept()) == ["outbox.lease_claim"] and all(kept().values())
