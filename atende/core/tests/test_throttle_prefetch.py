"""``throttle_prefetch``: the previous windows of many subjects read at once, each transactional hit then one
statement, deciding as it would have without."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.core.memo import batch_scope
from atende.core.throttle import Rate, throttle_hit, throttle_prefetch

RATE = Rate(3, 3600)
NOW = 10 * 3600 + 1800  # half-way through a window: half of the previous window's count still counts


def _hits(subject: str, count: int, now: float):
    return [throttle_hit("test.prefetch", subject, [RATE], now=now, transactional=True) for _ in range(count)]


@pytest.mark.django_db
def test_hits_after_a_prefetch_decide_as_without_it_and_cost_one_statement_each():
    for subject in ("read@example.org", "prefetched@example.org"):
        _hits(subject, 4, NOW - 3600)  # three admitted in the previous window, the fourth refused
    unprefetched = _hits("read@example.org", 3, NOW)
    with batch_scope():
        throttle_prefetch("test.prefetch", ["Prefetched@example.org", "new@example.org"], [RATE], now=NOW)
        with CaptureQueriesContext(connection) as captured:
            prefetched = _hits("prefetched@example.org", 1, NOW)
            fresh = _hits("new@example.org", 3, NOW)
        assert len(captured) == 1 + 3  # one upsert a hit; 2 before (the counts read first)
        prefetched += _hits("prefetched@example.org", 2, NOW)  # a refusal reads the current count for its wait
    # One more fits beside half of the previous window's three, then the wait is the same either way.
    assert [d.allowed for d in prefetched] == [d.allowed for d in unprefetched] == [True, False, False]
    assert [d.retry_after for d in prefetched] == [d.retry_after for d in unprefetched]
    assert [d.remaining for d in prefetched] == [d.remaining for d in unprefetched]
    assert [d.allowed for d in fresh] == [True, True, True]


@pytest.mark.django_db
def test_a_prefetch_from_another_window_is_not_used():
    _hits("late@example.org", 3, NOW - 3600)
    with batch_scope():
        throttle_prefetch("test.prefetch", ["late@example.org"], [RATE], now=NOW - 3600)  # its previous: empty
        # An hour later the window prefetched as current is the previous one: read, not taken as empty.
        assert [d.allowed for d in _hits("late@example.org", 2, NOW)] == [True, False]
