"""The dispatcher: one batch of events for one subscriber and partition, and the retries of its failed events.

A *unit* of work is (subscriber, partition): the subscriber's events of tickets with ``ticket_id % partitions ==
partition``. One worker at a time runs a unit, under a lease on its cursor row (``lease_owner`` until
``lease_until``), so events of one ticket reach a subscriber in order. A batch is one transaction (in a worker pass
on SQLite, one savepoint of the pass's transaction: ``rounds``): the
subscriber's effects, the bookkeeping of failures and the cursor advance commit together, the advance last and
conditional on the cursor being still where the batch was planned from and this worker's (else all roll back).
Events of types a subscriber does not handle (``core.events.handled_types``) are never handed to it: a batch with
nothing to hand over moves the cursor with one conditional update, outside any transaction of its own.

Failures: a batch that raises is run again event by event (each in a savepoint); an event that fails is recorded
as an ``EventRetry`` (retried with exponential backoff, parked after ``ATENDE_EVENTS_MAX_ATTEMPTS``) and the
later events of *its* ticket wait behind it; other tickets go on. An event type the table does not know is
recorded as skipped with a warning. A subscriber raises ``BadEvent`` for a payload it cannot handle: parked at
once (retrying cannot help), never dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from atende.core.events import EVENTS_MODEL, SUBSCRIBERS, Subscriber, handled_types, resolve
from atende.core.memo import batch_scope
from atende.core.models import EventRetry, EventRetryState, SubscriberCursor
from atende.core.outbox import passes, stream
from atende.core.outbox.passes import ADVANCE_FIELDS, PAYLOAD_FIELDS  # noqa: F401 - the payload's fields, re-exported

logger = logging.getLogger(__name__)

WAITING, PARKED, SKIPPED = EventRetryState.WAITING, EventRetryState.PARKED, EventRetryState.SKIPPED


class BadEvent(Exception):
    """A payload a subscriber cannot handle (missing or malformed fields): parked at once with this message."""


class BatchFailed(Exception):
    """The subscriber raised on a batch run without a savepoint of its own (``_handle(bare=True)``)."""


class LeaseLost(Exception):
    """Another worker holds this unit now: the batch is rolled back and left to it."""


@dataclass(frozen=True)
class Unit:
    subscriber: Subscriber
    partition: int
    partitions: int

    def __str__(self) -> str:
        return f"{self.subscriber.name}[{self.partition}]"


def option(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def partitions() -> int:
    return max(1, int(option("ATENDE_EVENTS_PARTITIONS", 1)))


def units() -> list[Unit]:
    count = partitions()
    return [Unit(sub, p, count) for sub in SUBSCRIBERS for p in range(count)]


def event_model():
    return apps.get_model(EVENTS_MODEL)


def known_types() -> frozenset[str]:
    return frozenset(value for value, _label in event_model()._meta.get_field("type").choices)


def backoff(attempts: int) -> dt.timedelta:
    base = float(option("ATENDE_EVENTS_BACKOFF_SECONDS", 5))
    return dt.timedelta(seconds=min(3600.0, base * 2 ** max(0, attempts - 1)))


# -- cursors and leases ------------------------------------------------------------------------------------------

def cursors_ensure() -> None:
    """Create missing cursors. On a new desk they start just before the oldest live (non-backfill) event (or
    after the last event when there is none), so a bulk seed costs nothing. A subscriber added to a running desk
    starts where the current subscribers are: what they have all handled is history it does not replay (a new
    subscriber added by an upgrade would otherwise work through years of events)."""
    names = {sub.name for sub in SUBSCRIBERS}
    existing = {(name, part): position for name, part, position in
                SubscriberCursor.objects.values_list("subscriber", "partition", "position")}
    missing = [u for u in units() if (u.subscriber.name, u.partition) not in existing]
    if not missing:
        return
    model = event_model()
    current = [position for (name, _part), position in existing.items() if name in names]
    first_live = model.objects.filter(backfill=False).aggregate(m=Min("id"))["m"]
    if current:
        start = min(current)
    elif first_live is not None:
        start = first_live - 1
    else:
        start = model.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for unit in missing:
        SubscriberCursor.objects.get_or_create(subscriber=unit.subscriber.name, partition=unit.partition,
                                               defaults={"partitions": unit.partitions, "position": start})


def lease_claim(unit: Unit, owner: str, *, now: dt.datetime | None = None,
                cursor: SubscriberCursor | None = None) -> bool:
    """Take (or renew) the unit's lease unless another live worker holds it. A conditional update: two workers
    racing for it cannot both win. ``cursor``, the unit's cursor read before, gets the new lease too."""
    now = now or timezone.now()
    until = now + dt.timedelta(seconds=float(option("ATENDE_EVENTS_LEASE_SECONDS", 15)))
    taken = bool(passes.lease_update(unit.subscriber.name, unit.partition, owner, now=now, until=until))
    if taken and cursor is not None:
        cursor.lease_owner, cursor.lease_until = owner, until
    return taken


def lease_release(unit: Unit, owner: str) -> None:
    SubscriberCursor.objects.filter(subscriber=unit.subscriber.name, partition=unit.partition,
                                    lease_owner=owner).update(lease_owner="", lease_until=None)


def _locked_cursor(unit: Unit, owner: str, now: dt.datetime) -> SubscriberCursor:
    cursor = SubscriberCursor.objects.select_for_update().get(subscriber=unit.subscriber.name,
                                                               partition=unit.partition)
    _lease_check(unit, cursor, owner, now)
    return cursor


def _lease_check(unit: Unit, cursor: SubscriberCursor, owner: str, now: dt.datetime) -> None:
    if cursor.lease_owner != owner or (cursor.lease_until is not None and cursor.lease_until < now):
        raise LeaseLost(str(unit))
    if cursor.partitions != unit.partitions:
        raise RuntimeError(f"cursor {unit} was written with {cursor.partitions} partitions, not {unit.partitions}; "
                           "drain the events (`atende events drain`) before changing ATENDE_EVENTS_PARTITIONS")


# -- payloads ----------------------------------------------------------------------------------------------------

def payload_of(row: dict[str, Any]) -> dict[str, Any]:
    data = row["data"]
    if not isinstance(data, dict):
        raise BadEvent(f"event {row['id']}: data is {type(data).__name__}, not an object")
    # No ticket number here: the row holds only the id, and subscribers read their tickets by id.
    return {"type": row["type"], "event_id": row["id"], "ticket_id": row["ticket_id"],
            "actor_kind": row["actor_kind"],
            "actor_user_id": row["actor_user_id"], "source_event_id": row["source_event_id"], "data": data,
            "created_at": row["created_at"].isoformat()}


rows_shared = passes.scope  # one pass: see ``passes``


def _rows(ids: list[int], *, shared_ok: bool = True) -> dict[int, dict[str, Any]]:
    return passes.rows(ids, shared_ok=shared_ok)


# -- one batch -----------------------------------------------------------------------------------------------------

def _dependency_state(unit: Unit) -> tuple[int | None, list]:
    """How far the subscribers this one runs after have got: the lowest position they reached and their gaps
    (events they are still retrying are looked up per batch). In a pass, their cursors as it read them or as this
    process's batches left them: one read earlier only holds this unit back, never lets it pass them."""
    if not unit.subscriber.after:
        return None, []
    deps = [passes.cursor_of(name, unit.partition) for name in unit.subscriber.after]
    if None in deps:  # not in a pass that read them
        deps = list(SubscriberCursor.objects.filter(subscriber__in=unit.subscriber.after, partition=unit.partition))
    if len(deps) < len(unit.subscriber.after):
        return 0, []  # a dependency has not started yet
    return min(d.position for d in deps), [g for d in deps for g in d.gaps]


def _scan(model, position: int, until: int | None, limit: int, scans: dict) -> list[tuple]:
    """Up to ``limit`` rows past ``position`` (up to ``until``), from ``scans`` when an unbounded scan from the same
    position read them all already."""
    key = (position, until, limit)
    if key not in scans:
        whole = scans.get((position, None, limit))
        if until is not None and whole is not None and (len(whole) < limit or whole[-1][0] >= until):
            scans[key] = [row for row in whole if row[0] <= until]
        else:
            scan = model.objects.filter(id__gt=position)
            if until is not None:
                scan = scan.filter(id__lte=until)
            scans[key] = list(scan.order_by("id").values_list("id", "ticket_id", "backfill", "type")[:limit])
    return scans[key]


@dataclass
class _Plan:
    position: int
    gaps: list
    chosen: list[tuple[int, int]]
    passed: int
    more: bool  # the scan stopped before the end of the stream (a full batch, or the scan's limit)


def _plan(unit: Unit, cursor: SubscriberCursor, now: dt.datetime, scans: dict | None = None) -> _Plan:
    """What the unit's next batch is: the events to hand over (in gaps that filled, then new ones, up to a batch
    of the events the subscriber handles), and where the cursor and its gaps go. Events of other partitions, of
    backfill or of types the subscriber does not handle are passed over without being handed. ``scans``: the
    stream as other units planned before any of their batches ran read it (the same rows for a unit at the same
    position, bounded alike), kept for the units planned after them."""
    batch = int(option("ATENDE_EVENTS_BATCH", 200)) * unit.subscriber.batch_scale
    window = float(option("ATENDE_EVENTS_GAP_SECONDS", 60))
    model = event_model()
    epoch = now.timestamp()
    gaps = stream.live_gaps(cursor.gaps, now=epoch, window=window)
    until, dep_gaps = _dependency_state(unit)
    fields = ("id", "ticket_id", "backfill", "type")
    limit = batch * 20
    scans = {} if scans is None else scans
    scanned = _scan(model, cursor.position, until, limit, scans)
    filled = []
    ranges = tuple((lo, hi) for lo, hi, _seen in gaps)
    if ranges and ("gaps", ranges) not in scans:
        in_gap = Q()
        for lo, hi in ranges:
            in_gap |= Q(id__gte=lo, id__lte=hi)
        scans[("gaps", ranges)] = list(model.objects.filter(in_gap).order_by("id").values_list(*fields))
    if ranges:
        filled = scans[("gaps", ranges)]
    known = known_types()
    handled = handled_types(unit.subscriber, known)

    def mine(ticket_id: int, backfill: bool, kind: str) -> bool:
        return (not backfill and ticket_id % unit.partitions == unit.partition
                and (handled is None or kind in handled or kind not in known))

    # Rows that appeared in a gap: handled now, unless a dependency has not seen them yet either.
    chosen: list[tuple[int, int]] = []
    appeared = []
    for event_id, ticket_id, backfill, kind in filled:
        if stream.in_gaps(event_id, dep_gaps):
            continue
        appeared.append(event_id)
        if mine(ticket_id, backfill, kind):
            chosen.append((event_id, ticket_id))
    gaps = stream.remove_ids(gaps, appeared)
    # New rows, up to a batch of the events this unit hands over.
    position = cursor.position
    seen: list[int] = []
    more = len(scanned) >= limit
    for event_id, ticket_id, backfill, kind in scanned:
        if stream.in_gaps(event_id, dep_gaps):
            continue  # not handled by the subscriber this one runs after: treated as not there yet
        if mine(ticket_id, backfill, kind):
            if len(chosen) >= batch:
                more = True
                break
            chosen.append((event_id, ticket_id))
        seen.append(event_id)
        position = event_id
    if position > cursor.position:
        gaps = stream.merge(gaps, stream.missing_ranges(cursor.position, position, seen, now=epoch))
    return _Plan(position, gaps, chosen, len(appeared) + len(seen), more)


@dataclass
class Step:
    """What one batch did: events passed (0: nothing new), whether the stream may go on past it, and the unit's
    cursor as this batch left it (the next batch starts from it without reading it again)."""
    passed: int
    more: bool
    cursor: SubscriberCursor


def run_batch(unit: Unit, owner: str, *, now: dt.datetime | None = None) -> int:
    """Hand the unit's next batch of events to its subscriber (``batch_step``). Returns how many events it
    passed (0: nothing new). Raises ``LeaseLost`` if another worker holds the unit."""
    return batch_step(unit, owner, now=now).passed


def batch_step(unit: Unit, owner: str, *, now: dt.datetime | None = None,
               cursor: SubscriberCursor | None = None) -> Step:
    """One batch of the unit, planned from ``cursor`` (the unit's cursor as last read or left by this worker's
    previous batch; read here when not given), outside any transaction. A batch with nothing to hand over (only
    events of types the subscriber does not handle, of other partitions or backfill) moves the cursor with one
    conditional update (or, in a worker pass that keeps the unit's lease, with the pass's other idle advances in
    one update at its end), and one that changes nothing writes nothing. Otherwise the subscriber's effects and the
    cursor advance commit together, in one transaction ended by the advance: an update conditional on the cursor
    being still where it was read and this worker's, and if it is not, ``LeaseLost`` rolls the effects back (the
    batch is left to whoever moved it). A cursor given from an earlier read is only a starting point."""
    now = now or timezone.now()
    if cursor is None:
        cursor = _cursor_read(unit, owner, now)
    else:
        _lease_check(unit, cursor, owner, now)
    plan = _plan(unit, cursor, now)
    if not plan.chosen:
        if plan.position != cursor.position or plan.gaps != cursor.gaps:
            cursor = _advance_idle(cursor, owner, plan, now)
        return Step(plan.passed, plan.more, cursor)
    new = advanced_for(cursor, plan, now)
    with transaction.atomic():
        _handle(unit, plan.chosen, now)
        if not passes.cursor_write(new, owner, read_at=cursor.position, read_gaps=cursor.gaps, now=now):
            raise LeaseLost(str(unit))
    passes.published(new)
    return Step(plan.passed, plan.more, new)


def _cursor_read(unit: Unit, owner: str, now: dt.datetime) -> SubscriberCursor:
    cursor = SubscriberCursor.objects.get(subscriber=unit.subscriber.name, partition=unit.partition)
    _lease_check(unit, cursor, owner, now)
    return cursor


def _advance_idle(cursor: SubscriberCursor, owner: str, plan: _Plan, now: dt.datetime) -> SubscriberCursor:
    """Move the cursor past events it hands nothing of: deferred to the pass's end when the unit's run keeps its
    lease, else in one statement now (``LeaseLost`` when the cursor moved or is not this worker's)."""
    new = advanced_for(cursor, plan, now)
    if passes.idle_defer(new, owner, cursor):
        return new
    if not passes.cursor_write(new, owner, read_at=cursor.position, read_gaps=cursor.gaps, now=now):
        raise LeaseLost(f"{cursor.subscriber}[{cursor.partition}]")
    passes.published(new)
    return new


def advanced_for(cursor: SubscriberCursor, plan: _Plan, now: dt.datetime) -> SubscriberCursor:
    """The cursor as the planned batch leaves it (a copy: ``cursor`` stays as read)."""
    new = passes.advanced(cursor)
    _advance(new, position=plan.position, gaps=plan.gaps, handled=len(plan.chosen), now=now)
    if not plan.chosen and plan.position != cursor.position:
        new.last_batch_at = now  # done with events up to here, as much as if they had been handed over
    return new


def _advance(cursor: SubscriberCursor, *, position: int, gaps: list, handled: int, now: dt.datetime) -> None:
    cursor.position = position
    cursor.gaps = gaps
    cursor.processed_total += handled
    if cursor.rate_window_start is None or (now - cursor.rate_window_start).total_seconds() >= 60:
        if cursor.rate_window_start is not None:
            elapsed = max(1.0, (now - cursor.rate_window_start).total_seconds())
            cursor.recent_rate = round(cursor.rate_window_count / elapsed, 2)
        cursor.rate_window_start, cursor.rate_window_count = now, 0
    cursor.rate_window_count += handled
    if handled:
        cursor.last_batch_at = now
    cursor.lease_until = now + dt.timedelta(seconds=float(option("ATENDE_EVENTS_LEASE_SECONDS", 15)))


def _handle(unit: Unit, chosen: list[tuple[int, int]], now: dt.datetime, *, bare: bool = False,
            each: bool = False) -> None:
    """Run the subscriber on the chosen events, inside the batch transaction: on the whole batch in a savepoint,
    then, if that failed, event by event. ``bare``: the caller's savepoint holds the batch (its bookkeeping and
    effects) and nothing else, so the whole batch runs in it without one of its own, and ``BatchFailed`` asks the
    caller to roll it back and run the batch again with ``each`` (event by event at once)."""
    name = unit.subscriber.name
    ids = sorted(event_id for event_id, _t in chosen)
    rows = _rows(ids)
    held_tickets: set[int] = set()
    if _retries_waiting(name):
        held_tickets = set(EventRetry.objects.filter(subscriber=name, state=WAITING,
                                                     ticket_id__in={t for _e, t in chosen})
                           .values_list("ticket_id", flat=True))
    dep_waiting = set()
    if unit.subscriber.after and passes.may_wait(unit.subscriber.after):
        dep_waiting = set(EventRetry.objects.filter(subscriber__in=unit.subscriber.after, state=WAITING,
                                                    event_id__in=ids).values_list("event_id", flat=True))
    types = known_types()
    ready: list[dict[str, Any]] = []
    for event_id in ids:
        row = rows.get(event_id)
        if row is None:
            continue  # deleted since it was scanned (its ticket was deleted)
        if row["type"] not in types:
            logger.warning("event %s has unknown type %r: skipped by %s", event_id, row["type"], name)
            _record(name, row, SKIPPED, now, error=f"unknown event type {row['type']!r}")
            continue
        if row["ticket_id"] in held_tickets or event_id in dep_waiting:
            # Behind an earlier event of the same ticket (or one the subscriber it runs after still retries).
            _record(name, row, WAITING, now, attempts=0, error="")
            held_tickets.add(row["ticket_id"])
            continue
        try:
            ready.append(payload_of(row))
        except BadEvent as exc:
            _record(name, row, PARKED, now, attempts=1, error=str(exc))
    if not ready:
        return
    handler = resolve(unit.subscriber.handler)
    if bare:
        try:
            with batch_scope():  # configuration read once for the batch (atende.core.memo)
                handler(ready)
        except Exception as exc:  # noqa: BLE001 - the caller isolates the event that failed
            raise BatchFailed(f"batch of {len(ready)} events failed in {name}") from exc
        return
    if not each:
        try:
            with transaction.atomic(), batch_scope():
                handler(ready)
            return
        except Exception:  # noqa: BLE001 - isolate the event that failed, below
            logger.info("batch of %d events failed in %s; running them one by one", len(ready), name,
                        exc_info=True)
    failed_tickets: set[int] = set()
    for payload in ready:
        row = rows[payload["event_id"]]
        if payload["ticket_id"] in failed_tickets:
            _record(name, row, WAITING, now, attempts=0, error="")
            continue
        try:
            with transaction.atomic(), batch_scope():
                handler([payload])
        except Exception as exc:  # noqa: BLE001 - recorded for retry
            failed_tickets.add(payload["ticket_id"])
            _record_failure(name, row, exc, attempts=1, now=now)


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))[-4000:]


def _record_failure(name: str, row: dict[str, Any], exc: BaseException, *, attempts: int, now: dt.datetime) -> None:
    max_attempts = int(option("ATENDE_EVENTS_MAX_ATTEMPTS", 6))
    parked = isinstance(exc, BadEvent) or attempts >= max_attempts
    logger.warning("%s failed on event %s (attempt %d%s): %s", name, row["id"], attempts,
                   ", parked" if parked else "", exc)
    _record(name, row, PARKED if parked else WAITING, now, attempts=attempts, error=_error_text(exc))


_run = threading.local()


@contextmanager
def _retries_noted(name: str, waiting: bool | None = None) -> Iterator[None]:
    """One run of a unit, under its lease: whether the subscriber has events waiting for a retry is looked up once
    (at its first batch with events to hand over; ``waiting``: the caller looked it up for its pass, as
    ``work_plan`` does), not per batch. Only the lease holder records retries for the unit's tickets, and this
    process notes each it records, so the answer stays true for the run (a retry done meanwhile only costs a
    look-up). Retries of the subscribers it runs after are looked up per batch (other workers record those),
    unless the pass's look found none for them and this process recorded none since (``passes.may_wait``)."""
    with retries_noted({} if waiting is None else {name: waiting}):
        yield


@contextmanager
def retries_noted(waiting: dict[str, bool]) -> Iterator[None]:
    """``_retries_noted`` for the units of a whole pass: ``waiting`` maps subscribers to the pass's look."""
    previous = getattr(_run, "waiting", None)
    _run.waiting = dict(waiting)
    try:
        yield
    finally:
        _run.waiting = previous


def _retries_waiting(name: str) -> bool:
    noted = getattr(_run, "waiting", None)
    if noted is None:
        return True
    if name not in noted:
        noted[name] = EventRetry.objects.filter(subscriber=name, state=WAITING).exists()
    return noted[name]


def _record(name: str, row: dict[str, Any], state: str, now: dt.datetime, *, attempts: int = 0,
            error: str = "") -> None:
    noted = getattr(_run, "waiting", None)
    if noted is not None and state == WAITING:
        noted[name] = True
    if state == WAITING:
        passes.waiting_noted(name)
    due = now + (backoff(attempts) if state == WAITING and attempts else dt.timedelta(0))
    EventRetry.objects.update_or_create(
        subscriber=name, event_id=row["id"],
        defaults={"ticket_id": row["ticket_id"] or 0, "event_type": str(row["type"])[:64], "state": state,
                  "attempts": attempts, "next_attempt_at": due, "last_error": error})


# -- retries -------------------------------------------------------------------------------------------------------

def run_retries(unit: Unit, owner: str, *, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Attempt the unit's due failed events, per ticket in event order: a ticket's next event runs only once the
    earlier one is done (or parked). Returns how many attempts were made."""
    now = now or timezone.now()
    name = unit.subscriber.name
    waiting = [r for r in EventRetry.objects.filter(subscriber=name, state=WAITING).order_by("event_id")
               .values("id", "event_id", "ticket_id", "attempts", "next_attempt_at")[:limit * 5]
               if r["ticket_id"] % unit.partitions == unit.partition]
    if not waiting:
        return 0
    per_ticket: dict[int, list[dict]] = defaultdict(list)
    for r in waiting:
        per_ticket[r["ticket_id"]].append(r)
    handler = resolve(unit.subscriber.handler)
    attempts_made = 0
    for rows in per_ticket.values():
        for retry in rows:
            if retry["next_attempt_at"] > now or attempts_made >= limit:
                break
            if unit.subscriber.after and EventRetry.objects.filter(
                    subscriber__in=unit.subscriber.after, state=WAITING, event_id=retry["event_id"]).exists():
                break  # the subscriber this one runs after has not done it yet
            attempts_made += 1
            if not _retry_one(unit, owner, handler, retry, now):
                break
    return attempts_made


def _retry_one(unit: Unit, owner: str, handler, retry: dict, now: dt.datetime) -> bool:
    """One attempt in its own transaction. True when the ticket's next event may go (done or parked)."""
    name = unit.subscriber.name
    row = _rows([retry["event_id"]], shared_ok=False).get(retry["event_id"])
    try:
        with transaction.atomic():
            _locked_cursor(unit, owner, now)
            if row is not None:
                with batch_scope():
                    handler([payload_of(row)])
            EventRetry.objects.filter(pk=retry["id"], state=WAITING).delete()
        return True
    except LeaseLost:
        raise
    except Exception as exc:  # noqa: BLE001 - recorded, with backoff
        attempts = retry["attempts"] + 1
        with transaction.atomic():
            _record_failure(name, row, exc, attempts=attempts, now=now)
        return isinstance(exc, BadEvent) or attempts >= int(option("ATENDE_EVENTS_MAX_ATTEMPTS", 6))


# -- one pass over every unit --------------------------------------------------------------------------------------

def run_unit(unit: Unit, owner: str, *, release: bool = True, seconds: float = 0.0, claim: bool = True,
             retries: bool = True, cursor: SubscriberCursor | None = None, waiting: bool | None = None) -> int:
    """Claim the unit, run one batch (more, each in its own transaction, while the stream goes on past the last
    one and ``seconds`` have not passed: one lease claim for many batches) and its due retries, release it.
    Returns the work done (0: idle or taken). ``claim=False``: the caller holds the lease already (each batch
    checks it); ``retries=False``: the caller knows none is due; ``cursor``: the unit's cursor as the caller
    read it, so the first batch does not read it again; ``waiting``: whether the subscriber has events waiting
    for a retry at all (both from ``work_plan``). A unit whose lease is kept (``release=False``) leaves its idle
    advances to the end of the pass, when they are written together."""
    if claim and not lease_claim(unit, owner, cursor=cursor):
        return 0
    try:
        with _retries_noted(unit.subscriber.name, waiting), passes.deferring_idle(not release):
            return _run_batches(unit, owner, seconds=seconds, retries=retries, cursor=cursor)
    except LeaseLost:
        return 0
    finally:
        if release:
            lease_release(unit, owner)


def _run_batches(unit: Unit, owner: str, *, seconds: float, retries: bool,
                 cursor: SubscriberCursor | None) -> int:
    """Batches until one reaches the end of the stream: a batch that did is not followed by a look for more
    (events committed since are the next pass's)."""
    done, deadline = 0, time.monotonic() + seconds
    while True:
        step = batch_step(unit, owner, cursor=cursor)
        done += step.passed
        cursor = step.cursor
        if not step.passed or not step.more or time.monotonic() >= deadline:
            break
    return done + (run_retries(unit, owner) if retries else 0)

