"""Gap bookkeeping of the stream reader, as properties over any ids: an id that was missing is looked for until it
appears or the window passes; nothing present is ever reported missing."""

from hypothesis import given, settings
from hypothesis import strategies as st

from atende.core.outbox import stream

ids = st.sets(st.integers(min_value=1, max_value=200), max_size=80)


@settings(deadline=None)  # timing on a shared machine is not what is tested
@given(present=ids, after=st.integers(min_value=0, max_value=50), upto=st.integers(min_value=0, max_value=220))
def test_missing_ranges_cover_exactly_the_absent_ids(present, after, upto):
    ranges = stream.missing_ranges(after, upto, present, now=1.0)
    covered = {i for lo, hi, _ in ranges for i in range(lo, hi + 1)}
    assert covered == {i for i in range(after + 1, upto + 1) if i not in present}
    assert all(lo <= hi for lo, hi, _ in ranges)


@settings(deadline=None)
@given(present=ids, appeared=ids)
def test_removing_ids_leaves_the_rest_of_each_gap(present, appeared):
    gaps = stream.missing_ranges(0, 200, present, now=1.0)
    left = stream.remove_ids(gaps, appeared)
    covered = {i for lo, hi, _ in left for i in range(lo, hi + 1)}
    assert covered == {i for i in range(1, 201) if i not in present and i not in appeared}
    assert all(stream.in_gaps(i, left) for i in covered)


def test_gaps_expire_after_the_window_and_keep_their_first_sighting():
    gaps = stream.merge(stream.missing_ranges(0, 5, {1, 2, 4}, now=100.0),
                        stream.missing_ranges(5, 9, {6, 7}, now=150.0))
    assert stream.live_gaps(gaps, now=155.0, window=60) == [[3, 3, 100.0], [5, 5, 100.0], [8, 9, 150.0]]
    assert stream.live_gaps(gaps, now=165.0, window=60) == [[8, 9, 150.0]]
    assert stream.live_gaps(gaps, now=215.0, window=60) == []


def test_too_many_gap_ranges_drop_the_oldest():
    gaps = [[i * 2, i * 2, float(i)] for i in range(stream.MAX_GAP_RANGES + 10)]
    kept = stream.live_gaps(gaps, now=float(stream.MAX_GAP_RANGES + 10), window=10_000)
    assert len(kept) == stream.MAX_GAP_RANGES and kept[0][0] == 20
