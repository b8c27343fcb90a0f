"""One worker pass over the units: what it reads once for every unit, and the cursor writes it makes together.

A pass (``scope``) keeps the event rows it read (handed to every subscriber that gets them), the cursors as its
plan read them and as this process's batches then left them (a subscriber that runs after another plans from
that, not from a read of its own), the subscribers that had events waiting for a retry at the plan's look (plus
those this process recorded since), the idle advances of units kept by this worker, written in one statement
when the pass ends, and the ids its committed batches handed to a task (``enqueue_after``), queued as one task
when it ends.

Every cursor write is checked: it names the position and gaps it started from and the lease holder, and a write
that matches no row means another worker moved the cursor or holds the unit (``LeaseLost`` for a batch, whose
transaction is then rolled back with the subscriber's effects).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone

from atende.core.events import EVENTS_MODEL
from atende.core.models import SubscriberCursor
from atende.core.prepared import prepared_update
from atende.core.tasks import enqueue

logger = logging.getLogger(__name__)

PAYLOAD_FIELDS = ("id", "type", "ticket_id", "actor_kind", "actor_user_id", "source_event_id", "data", "created_at")
ADVANCE_FIELDS = ("position", "gaps", "processed_total", "rate_window_start", "rate_window_count", "recent_rate",
                  "last_batch_at", "lease_until")
SHARED_ROWS_MAX = 20_000


@dataclass
class Pass:
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    # (subscriber, partition) -> cursor, as committed (or, for a deferred idle advance, as it will be written)
    cursors: dict[tuple[str, int], SubscriberCursor] = field(default_factory=dict)
    waiting: set[str] | None = None  # None: not looked up in this pass
    # (subscriber, partition) -> (the advanced cursor, owner, the cursor as read before it)
    idle: dict[tuple[str, int], tuple[SubscriberCursor, str, SubscriberCursor]] = field(default_factory=dict)
    defer_idle: bool = False
    # task path -> the ids its tasks were to be given, in commit order: one task for the pass (``enqueue_after``)
    tasks: dict[str, list] = field(default_factory=dict)


_local = threading.local()


def current() -> Pass | None:
    return getattr(_local, "current", None)


@contextmanager
def scope() -> Iterator[Pass]:
    """One pass. Nested calls share the outer pass; the deferred idle advances are written when it ends."""
    outer = current()
    if outer is not None:
        yield outer
        return
    _local.current = state = Pass()
    try:
        yield state
        idle_flush(state)
    finally:
        _local.current = None
        tasks_flush(state)


def enqueue_after(task_path: str, ids: list) -> bool:
    """Within a pass: ``ids`` join the one task of ``task_path`` queued when the pass ends (every batch that
    committed work for it, in commit order: one task row inserted for the pass, not one per batch). False outside
    a pass: the caller queues its task itself."""
    state = current()
    if state is None:
        return False
    state.tasks.setdefault(task_path, []).extend(ids)
    return True


def tasks_flush(state: Pass) -> None:
    """The pass's tasks, each with every id committed for it (also when the pass stopped on an error: the batches
    that committed keep their work)."""
    pending, state.tasks = state.tasks, {}
    for task_path, ids in pending.items():
        try:
            enqueue(task_path, ids)
        except Exception:  # the periodic drains pick up what a task would have done
            logger.exception("could not enqueue %s for %d ids", task_path, len(ids))


@contextmanager
def deferring_idle(defer: bool) -> Iterator[None]:
    """Within one unit's run: its idle advances wait for the end of the pass (``defer``), or are written at once."""
    state = current()
    if state is None:
        yield
        return
    previous, state.defer_idle = state.defer_idle, defer
    try:
        yield
    finally:
        state.defer_idle = previous


def rows(ids: list[int], *, shared_ok: bool = True) -> dict[int, dict[str, Any]]:
    """The event rows of ``ids``, from the pass's when it read them already. Only rows a batch's own scan found
    are asked for, so a row deleted before the batch is never handed over; the rows live for one pass."""
    if not ids:
        return {}
    model = apps.get_model(EVENTS_MODEL)
    state = current() if shared_ok else None
    if state is None:
        return {r["id"]: r for r in model.objects.filter(id__in=ids).values(*PAYLOAD_FIELDS)}
    shared = state.rows
    missing = [i for i in ids if i not in shared]
    if missing:
        if len(shared) + len(missing) > SHARED_ROWS_MAX:
            shared.clear()
        shared.update((r["id"], r) for r in model.objects.filter(id__in=missing).values(*PAYLOAD_FIELDS))
    return {i: shared[i] for i in ids if i in shared}


def noted(cursors: dict[tuple[str, int], SubscriberCursor], waiting: set[str]) -> None:
    """The plan's reads, for the pass: every cursor, then (after them) the subscribers with events waiting."""
    state = current()
    if state is not None:
        state.cursors, state.waiting = dict(cursors), set(waiting)


def cursor_of(name: str, partition: int) -> SubscriberCursor | None:
    state = current()
    return state.cursors.get((name, partition)) if state is not None else None


def may_wait(names: tuple[str, ...]) -> bool:
    """Whether one of these subscribers may have events waiting for a retry (True when the pass did not look).
    The pass looked after reading the cursors, and a retry is recorded with its cursor's advance, so a waiting
    event below a cursor the pass read was there to see; those this process records since are noted."""
    state = current()
    return state is None or state.waiting is None or any(name in state.waiting for name in names)


def waiting_noted(name: str) -> None:
    state = current()
    if state is not None and state.waiting is not None:
        state.waiting.add(name)


def advanced(cursor: SubscriberCursor) -> SubscriberCursor:
    """A copy to advance: the cursor given stays as read until the write commits."""
    new = copy.copy(cursor)
    new.gaps = list(cursor.gaps)
    return new


def cursor_write(new: SubscriberCursor, owner: str, *, read_at: int, read_gaps: list, now: dt.datetime) -> bool:
    """The cursor advance, only if the row is still where it was read and still this worker's (one statement, no
    locked read before it: on PostgreSQL a concurrent write of the row makes this one wait and then match nothing).
    A deferred idle advance of the unit is folded into it (the row is still where that one read it)."""
    key = (new.subscriber, new.partition)
    state = current()
    pending = state.idle.pop(key, None) if state is not None else None
    if pending is not None:
        read_at, read_gaps = pending[2].position, pending[2].gaps
    return bool(_checked_update(new, owner, read_at=read_at, read_gaps=read_gaps, now=now))


_WHERE_FIELDS = ("gaps", "lease_owner", "id", "position")  # the order the ORM compiles a cursor's terms in


def _prep(name: str, value: Any, connection, *, save: bool = False) -> Any:
    field = SubscriberCursor._meta.get_field(name)
    return field.get_db_prep_save(value, connection) if save else field.get_db_prep_value(value, connection)


def _where_params(owner: str, pk: int, read_at: int, read_gaps: list, connection) -> list:
    return [_prep(name, value, connection) for name, value in
            zip(_WHERE_FIELDS, (read_gaps, owner, pk, read_at), strict=True)]


def _advance_params(new: SubscriberCursor, owner: str, read_at: int, read_gaps: list, now: dt.datetime,
                    connection) -> list:
    """The parameters of the advance's statement, in its order: the values set (NULLs are in its text), the lease's
    time, then the cursor's terms."""
    return [*(_prep(name, value, connection, save=True) for name in ADVANCE_FIELDS
              if (value := getattr(new, name)) is not None),
            _prep("lease_until", now, connection), *_where_params(owner, new.pk, read_at, read_gaps, connection)]


def lease_update(subscriber: str, partition: int, owner: str, *, now: dt.datetime, until: dt.datetime) -> int:
    """A lease claim's conditional update (the cursor free, expired or already ``owner``'s), once per unit and
    pass, from SQL compiled once per connection (``core.prepared.prepared_update``)."""
    values = {"lease_owner": owner, "lease_until": until}

    def build():
        free = Q(lease_owner=owner) | Q(lease_owner="") | Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        return SubscriberCursor.objects.filter(free, subscriber=subscriber, partition=partition), values

    using = SubscriberCursor.objects.db
    connection = connections[using]
    params = [_prep("lease_owner", owner, connection, save=True), _prep("lease_until", until, connection, save=True),
              _prep("lease_owner", owner, connection), _prep("lease_owner", "", connection),
              _prep("lease_until", now, connection), _prep("partition", partition, connection),
              _prep("subscriber", subscriber, connection)]
    return prepared_update("outbox.lease_claim", build, params, using)


def _checked_update(new: SubscriberCursor, owner: str, *, read_at: int, read_gaps: list, now: dt.datetime) -> int:
    """``filter(lease held, pk, lease_owner, position, gaps).update(ADVANCE_FIELDS)``, once per batch, from SQL
    compiled once per connection (``core.prepared.prepared_update``)."""
    values = {name: getattr(new, name) for name in ADVANCE_FIELDS}

    def build():
        held = Q(lease_until__isnull=True) | Q(lease_until__gte=now)
        return SubscriberCursor.objects.filter(held, pk=new.pk, lease_owner=owner, position=read_at,
                                               gaps=read_gaps), values

    using = SubscriberCursor.objects.db
    shape = ("outbox.cursor_advance", *(value is None for value in values.values()))
    return prepared_update(shape, build, _advance_params(new, owner, read_at, read_gaps, now, connections[using]),
                           using)


def published(new: SubscriberCursor) -> None:
    """A committed advance: what the units planned after it in this pass see."""
    state = current()
    if state is not None:
        state.cursors[(new.subscriber, new.partition)] = new


def idle_defer(new: SubscriberCursor, owner: str, read: SubscriberCursor) -> bool:
    """Keep an idle advance for the pass's single write, when the unit's run defers them. The units planned after
    it see it at once: an idle advance records only that the unit has nothing to do with those events."""
    state = current()
    if state is None or not state.defer_idle:
        return False
    key = (new.subscriber, new.partition)
    if key in state.idle:
        read = state.idle[key][2]
    state.idle[key] = (new, owner, read)
    state.cursors[key] = new
    return True


RATE_FIELDS = ("rate_window_start", "rate_window_count", "recent_rate")


def _idle_update(values: dict[str, Any], terms: list[tuple[int, str, int, list]], now: dt.datetime) -> int:
    """``filter(lease held).filter(cursor 1 | cursor 2 | …).update(**values)``, each cursor named by its id,
    owner and the position and gaps it was read at; from SQL compiled once per connection and shape."""
    def build():
        match = Q()
        for pk, owner, read_at, read_gaps in terms:
            match |= Q(pk=pk, lease_owner=owner, position=read_at, gaps=read_gaps)
        held = Q(lease_until__isnull=True) | Q(lease_until__gte=now)
        return SubscriberCursor.objects.filter(held).filter(match), values

    using = SubscriberCursor.objects.db
    connection = connections[using]
    params = [*(_prep(name, value, connection, save=True) for name, value in values.items() if value is not None),
              _prep("lease_until", now, connection),
              *(p for pk, owner, read_at, read_gaps in terms
                for p in _where_params(owner, pk, read_at, read_gaps, connection))]
    shape = ("outbox.idle_advance", *((name, value is None) for name, value in values.items()), len(terms))
    return prepared_update(shape, build, params, using)


def idle_flush(state: Pass) -> None:
    """The pass's deferred idle advances, in one statement (one turn of SQLite's writers' lock, not one each): the
    units of a pass mostly reach the same position with the same gaps, so one ``UPDATE`` names every cursor with
    the position and gaps it was read at and sets the values they share (a few groups, in one transaction, when
    they differ). Their time fields are the write's. A cursor another worker moved meanwhile is left as it is:
    the next pass plans its unit again."""
    pending, state.idle = state.idle, {}
    if not pending:
        return
    now = timezone.now()
    until = now + dt.timedelta(seconds=float(getattr(settings, "ATENDE_EVENTS_LEASE_SECONDS", 15)))
    groups: dict[str, tuple[dict[str, Any], list[tuple[int, str, int, list]]]] = {}
    for new, owner, read in pending.values():
        values = {"position": new.position, "gaps": new.gaps, "lease_until": until}
        if new.position != read.position:
            values["last_batch_at"] = now
        if new.rate_window_start != read.rate_window_start:  # its rate window turned over (now, as written)
            values.update((name, getattr(new, name)) for name in RATE_FIELDS)
            values["rate_window_start"] = now
        key = repr(sorted(values.items()))
        groups.setdefault(key, (values, []))[1].append((new.pk, owner, read.position, read.gaps))
    moved = 0
    with transaction.atomic() if len(groups) > 1 else contextlib.nullcontext():
        for values, terms in groups.values():
            moved += _idle_update(values, terms, now)
    if moved < len(pending):
        logger.info("%d of %d idle cursor advances found their cursor moved or taken", len(pending) - moved,
                    len(pending))
