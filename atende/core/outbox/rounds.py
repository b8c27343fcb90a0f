"""A pass over the units a worker holds, in rounds: each round plans one batch per unit, then runs the batches in
one write transaction.

The plans come first, outside any transaction: each unit's stream scan (a unit that runs after another plans from
the cursor that one's batch of the round will leave), then the event rows of every batch, read at once. Then one
transaction (``shared``, the default on SQLite, where every write transaction takes the database's single writers'
lock that requests creating tickets need too) runs the batches in the subscribers' order, each in a savepoint ended
by its checked cursor advance; the idle advances of the units handed nothing are written at its end. The
live pushes of the events the batches record follow the round, together (``events.pushes_together``). Without
``shared`` each batch is a transaction of its own, as ``dispatch.batch_step`` makes it. In a shared transaction,
events newer than the plans saw (those its batches recorded, as SLA does after each creation) get one more round
in it, planned inside it, unless a unit has a backlog (its next round comes anyway).

What commits together stays per subscriber: a batch whose savepoint is rolled back (its cursor moved or taken:
``LeaseLost``; an error of the dispatcher's own) leaves nothing of its effects and its cursor where it was, while
the other batches of the round commit; the units planned from its advance (those that run after it) are left for
the next pass. A subscriber's failing events are retried and parked as in ``dispatch._handle``, inside its
savepoint. A stop request (SIGTERM) ends the round after the batch in hand: the batches run so far commit.

A round whose batches stopped short of the stream's end (a full batch) is followed by another, for ``seconds``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from atende.core.events import pushes_together
from atende.core.models import EventRetry, SubscriberCursor
from atende.core.outbox import dispatch, passes
from atende.core.outbox.dispatch import LeaseLost, Unit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Work:
    unit: Unit
    retries: bool  # the subscriber has retries due (else they are not looked for)
    cursor: SubscriberCursor  # as read for this plan: the unit's first batch starts from it
    waiting: bool  # the subscriber has events waiting for a retry, due or not (their tickets' events wait)


def work_plan(*, now: dt.datetime | None = None) -> list[Work]:
    """The units that may have something to do (new events past their cursor, gaps to look for, or retries due;
    three small queries, so an idle worker costs little), each with whether its subscriber has retries due and its
    cursor."""
    now = now or timezone.now()
    cursors = {(c.subscriber, c.partition): c for c in SubscriberCursor.objects.all()}
    if any((u.subscriber.name, u.partition) not in cursors for u in dispatch.units()):
        dispatch.cursors_ensure()
        cursors = {(c.subscriber, c.partition): c for c in SubscriberCursor.objects.all()}
    last = dispatch.event_model().objects.order_by("-id").values_list("id", flat=True).first() or 0
    first_due = dict(EventRetry.objects.filter(state=dispatch.WAITING).values_list("subscriber")
                     .annotate(first=Min("next_attempt_at")).order_by())
    passes.noted(cursors, set(first_due))
    busy = []
    for unit in dispatch.units():
        cursor = cursors[(unit.subscriber.name, unit.partition)]
        waiting = unit.subscriber.name in first_due
        retries = waiting and first_due[unit.subscriber.name] is not None and first_due[unit.subscriber.name] <= now
        if cursor.position < last or cursor.gaps or retries:
            busy.append(Work(unit, retries, cursor, waiting))
    return busy


def shared_default() -> bool:
    """Whether a pass's batches share one transaction: ``ATENDE_EVENTS_SHARED_TRANSACTION`` (None: on SQLite; the
    project's settings turn it off, see there). On PostgreSQL, where writers do not queue for one lock, a batch's
    row locks are held for its own work only."""
    chosen = getattr(settings, "ATENDE_EVENTS_SHARED_TRANSACTION", None)
    return connection.vendor == "sqlite" if chosen is None else bool(chosen)


@dataclass
class _Batch:
    unit: Unit
    read: SubscriberCursor  # the cursor the plan started from
    plan: dispatch._Plan
    new: SubscriberCursor  # the cursor as the batch leaves it
    shown: SubscriberCursor | None  # what the pass showed for the unit before this plan (put back if it fails)
    after: set[tuple[str, int]] = field(default_factory=set)  # planned from these units' advances in the round


@dataclass
class Outcome:
    passed: int = 0
    lost: set[Unit] = field(default_factory=set)  # units whose lease or cursor another worker has


def pass_run(works: list[Work], owner: str, *, shared: bool | None = None, seconds: float = 0.0,
             stop: Callable[[], bool] = lambda: False) -> Outcome:
    """Rounds over ``works`` (units whose leases the caller holds), then their due retries. Returns the events
    passed and the units lost to another worker. In the caller's pass (``passes.scope``), if it has one."""
    shared = shared_default() if shared is None else shared
    outcome = Outcome()
    cursors = {w.unit: w.cursor for w in works}
    deadline = time.monotonic() + seconds
    with passes.scope() as state, passes.deferring_idle(True), \
            dispatch.retries_noted({w.unit.subscriber.name: w.waiting for w in works}):
        try:
            while cursors:
                more = _round(cursors, owner, shared=shared, stop=stop, outcome=outcome)
                if not more or stop() or time.monotonic() >= deadline:
                    break
        finally:
            passes.idle_flush(state)  # before the caller gives the leases back
        for work in works:
            if work.retries and work.unit not in outcome.lost and not stop():
                try:
                    outcome.passed += dispatch.run_retries(work.unit, owner)
                except LeaseLost:
                    outcome.lost.add(work.unit)
    return outcome


def _round(cursors: dict[Unit, SubscriberCursor], owner: str, *, shared: bool, stop: Callable[[], bool],
           outcome: Outcome) -> bool:
    """One batch per unit. ``cursors`` (each unit's cursor as the pass last left it) is brought up to date; units
    lost leave it. True when a batch stopped short of the stream's end. In a shared transaction, events newer than
    the plans saw (those the batches recorded: the SLA's after each creation) get one more round in it."""
    state = passes.current()
    now = timezone.now()
    batches, more, reach = _plans(cursors, owner, now, state, outcome)
    if not any(b.plan.chosen for b in batches):
        for batch in batches:
            passes.idle_defer(batch.new, owner, batch.read)
            cursors[batch.unit] = batch.new
        return more
    passes.rows(sorted(event_id for b in batches for event_id, _t in b.plan.chosen))  # read before the writes
    failed: set[tuple[str, int]] = set()
    errors: list[Exception] = []
    planned = list(batches)
    try:
        # The live pushes of what the round's batches record (SLA_APPLIED, the triggers' changes) go out together
        # after its commit: one channel-layer message per group instead of one round of sends per event.
        with pushes_together(), transaction.atomic() if shared else contextlib.nullcontext():
            _execute(batches, cursors, owner, now, state, outcome, failed, errors, stop)
            # Not behind a backlog (``more``: the next round comes anyway, each its own turn of the lock).
            if shared and not more and not stop() and dispatch.event_model().objects.filter(id__gt=reach).exists():
                follow, more, _reach = _plans(cursors, owner, now, state, outcome)
                planned += follow
                passes.rows(sorted(event_id for b in follow for event_id, _t in b.plan.chosen))
                _execute(follow, cursors, owner, now, state, outcome, failed, errors, stop)
            if shared:
                passes.idle_flush(state)  # in the same transaction: one turn of the writers' lock for the pass
    except Exception:
        for batch in reversed(planned):  # the transaction did not commit: the pass shows the cursors as they were
            _put_back(state, batch)
        raise
    if errors:
        raise errors[0]  # after the others committed, as a failing batch's error always reached the caller
    return more and not failed


def _execute(batches: list[_Batch], cursors: dict[Unit, SubscriberCursor], owner: str, now: dt.datetime,
             state: passes.Pass, outcome: Outcome, failed: set[tuple[str, int]], errors: list[Exception],
             stop: Callable[[], bool]) -> None:
    """The planned batches in order, each in its savepoint (or, not shared, its transaction). One that fails is
    rolled back alone and noted in ``failed`` (with the units planned from its advance, left for the next pass)."""
    for batch in batches:
        key = (batch.unit.subscriber.name, batch.unit.partition)
        if stop() or batch.after & failed:  # stopping, or planned from an advance that is not made
            failed.add(key)
            _put_back(state, batch)
            cursors.pop(batch.unit, None)
            continue
        if not batch.plan.chosen:
            passes.idle_defer(batch.new, owner, batch.read)
            cursors[batch.unit] = batch.new
            continue
        pending = state.idle.get(key)
        try:
            try:
                _batch_commit(batch, owner, now, bare=True)
            except dispatch.BatchFailed as broke:
                logger.info("%s; running them one by one", broke, exc_info=broke.__cause__)
                _batch_commit(batch, owner, now, each=True)
        except Exception as exc:  # noqa: BLE001 - this batch only: the round's others go on
            if not isinstance(exc, LeaseLost):
                logger.exception("batch of %s failed; its effects are rolled back", batch.unit)
                errors.append(exc)
            failed.add(key)
            _put_back(state, batch, pending)
            cursors.pop(batch.unit, None)
            outcome.lost.add(batch.unit)
            continue
        cursors[batch.unit] = batch.new
        outcome.passed += batch.plan.passed


def _batch_commit(batch: _Batch, owner: str, now: dt.datetime, *, bare: bool = False, each: bool = False) -> None:
    """The batch's effects and its checked cursor advance in one savepoint (or, not shared, one transaction)."""
    with transaction.atomic():
        dispatch._handle(batch.unit, batch.plan.chosen, now, bare=bare, each=each)
        if not passes.cursor_write(batch.new, owner, read_at=batch.read.position, read_gaps=batch.read.gaps,
                                   now=now):
            raise LeaseLost(str(batch.unit))


def _plans(cursors: dict[Unit, SubscriberCursor], owner: str, now: dt.datetime, state: passes.Pass,
           outcome: Outcome) -> tuple[list[_Batch], bool, int]:
    """Each unit's next batch, in the subscribers' order; a unit's advance is shown to the units planned after it
    (``passes.cursor_of``) at once, and they note it. Units with nothing to do are left out. Also whether a batch
    stops short of the stream's end, and the newest event id the plans reached."""
    batches: list[_Batch] = []
    advanced: set[tuple[str, int]] = set()
    scans: dict = {}  # one scan of the stream for the units at the same position
    more, reach = False, 0
    for unit, cursor in list(cursors.items()):
        try:
            dispatch._lease_check(unit, cursor, owner, now)
        except LeaseLost:
            cursors.pop(unit)
            outcome.lost.add(unit)
            continue
        plan = dispatch._plan(unit, cursor, now, scans)
        more, reach = more or plan.more, max(reach, plan.position)
        if not plan.chosen and plan.position == cursor.position and plan.gaps == cursor.gaps:
            outcome.passed += plan.passed
            continue
        key = (unit.subscriber.name, unit.partition)
        new = dispatch.advanced_for(cursor, plan, now)
        after = {(name, unit.partition) for name in unit.subscriber.after} & advanced
        batches.append(_Batch(unit, cursor, plan, new, state.cursors.get(key), after))
        state.cursors[key] = new
        advanced.add(key)
        if not plan.chosen:
            outcome.passed += plan.passed
    return batches, more, reach


def _put_back(state: passes.Pass, batch: _Batch, pending: tuple | None = None) -> None:
    """The pass shows the unit's cursor as before the batch's plan, and an idle advance kept for the pass that the
    batch's rolled-back write had taken over is kept again."""
    key = (batch.unit.subscriber.name, batch.unit.partition)
    if batch.shown is not None:
        state.cursors[key] = batch.shown
    else:
        state.cursors.pop(key, None)
    if pending is not None:
        state.idle[key] = pending


def pass_all(owner: str, *, shared: bool | None = None) -> int:
    """One pass over every unit with work (``atende events drain``, tests): each lease taken, the rounds, every
    lease given back."""
    with passes.scope():  # the plan's cursor reads, for the units planned after others
        held = [w for w in work_plan() if dispatch.lease_claim(w.unit, owner, cursor=w.cursor)]
        try:
            return pass_run(held, owner, shared=shared).passed
        finally:
            lease_release_many([w.unit for w in held], owner)


def lease_release_many(units_held: list[Unit], owner: str) -> None:
    """``dispatch.lease_release`` for several units in one statement."""
    if not units_held:
        return
    match = Q()
    for unit in units_held:
        match |= Q(subscriber=unit.subscriber.name, partition=unit.partition)
    SubscriberCursor.objects.filter(match, lease_owner=owner).update(lease_owner="", lease_until=None)
