"""Reading the event stream in id order without losing a row that commits late.

On PostgreSQL an event's id is taken from a sequence when the row is inserted, before its transaction commits: a
slow transaction can commit id 41 after a fast one committed 42. A reader that has passed 42 would never look at
41 again. So the reader remembers, as *gaps*, every id it passed that was missing, and looks for them again on
every batch until they appear or the visibility window (``ATENDE_EVENTS_GAP_SECONDS``, 60 s) has passed since
they were first missed: a transaction that stays open longer than the window after taking its id is the one case
this can miss (rolled-back inserts leave ids that never appear; they are what the window expires).

On SQLite ids are taken under the database's single write lock and commit in order, so gaps only come from
deleted rows and expire harmlessly.

Gaps are kept as ranges ``[first_id, last_id, first_missed_epoch]`` so a burst of rolled-back ids (or a sequence
jump after a server crash) costs one entry. Everything here is a pure function of its inputs (tested as such).
"""

from __future__ import annotations

from collections.abc import Iterable

Gap = list  # [first_id, last_id, first_missed_epoch]
MAX_GAP_RANGES = 1000


def live_gaps(gaps: Iterable[Gap], *, now: float, window: float) -> list[Gap]:
    """The gaps still worth looking for (missed less than ``window`` seconds ago), oldest ranges dropped first
    when there are too many."""
    kept = [[int(lo), int(hi), float(seen)] for lo, hi, seen in gaps if now - float(seen) < window]
    kept.sort(key=lambda g: g[0])
    if len(kept) > MAX_GAP_RANGES:
        kept = sorted(kept, key=lambda g: g[2])[-MAX_GAP_RANGES:]
        kept.sort(key=lambda g: g[0])
    return kept


def in_gaps(event_id: int, gaps: Iterable[Gap]) -> bool:
    return any(lo <= event_id <= hi for lo, hi, _seen in gaps)


def remove_ids(gaps: Iterable[Gap], ids: Iterable[int]) -> list[Gap]:
    """The gaps without ``ids`` (rows that appeared), splitting ranges where needed."""
    result = [list(g) for g in gaps]
    for event_id in sorted(set(ids)):
        next_result = []
        for lo, hi, seen in result:
            if lo <= event_id <= hi:
                if lo < event_id:
                    next_result.append([lo, event_id - 1, seen])
                if event_id < hi:
                    next_result.append([event_id + 1, hi, seen])
            else:
                next_result.append([lo, hi, seen])
        result = next_result
    return result


def missing_ranges(after: int, upto: int, present: Iterable[int], *, now: float) -> list[Gap]:
    """Ranges of ids in ``(after, upto]`` that are not in ``present``, each marked missed at ``now``."""
    ranges: list[Gap] = []
    expected = after + 1
    for event_id in sorted(i for i in set(present) if after < i <= upto):
        if event_id > expected:
            ranges.append([expected, event_id - 1, now])
        expected = event_id + 1
    if expected <= upto:
        ranges.append([expected, upto, now])
    return ranges


def merge(gaps: Iterable[Gap], more: Iterable[Gap]) -> list[Gap]:
    return sorted([*map(list, gaps), *map(list, more)], key=lambda g: g[0])
