"""The events bus. The event rows are the outbox; subscribers are listed here, explicitly.

A service writes its ``TicketEvent`` row inside its own transaction (``tickets.services._common.record_event``).
The dispatcher (``atende.core.outbox``) reads new rows in id order, in batches, and hands each batch to every
subscriber below; a subscriber's database effects and its durable cursor (``core.SubscriberCursor``) commit
together, so a crash loses nothing and repeats nothing.

Only the websocket push rides on ``transaction.on_commit`` (``ON_COMMIT_HANDLERS``): browsers re-sync, so a push
lost with a crashed process costs nothing. A handler takes a list of payloads, in commit order: one event's, or
inside ``pushes_together`` every event the block's transactions committed (an import commits a hundred tickets at
once: one push for them all).

A subscriber is a function taking the batch, a list of plain JSON payloads (``type``, ``event_id``,
``ticket_id``, ``actor_kind``, ``actor_user_id``, ``source_event_id``, ``data``, ``created_at``) in id order,
and working set-wise. ``after`` names subscribers that must have handled an event before this one sees it;
``batch_scale`` lets one whose work per event is tiny take bigger batches. ``types`` names the only event types
the subscriber acts on; a handler module may instead name the types it passes over (``EVENTS_IGNORED``). The
dispatcher moves the subscriber's cursor past the other events without calling it (``handled_types``); left
out, every event is handed over. Declare only what the handler really ignores: an event never handed over is
never seen.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# The table subscribers read (app_label.Model); core reads it through the app registry, never by import.
EVENTS_MODEL = "tickets.TicketEvent"


@dataclass(frozen=True)
class Subscriber:
    name: str
    handler: str
    after: tuple[str, ...] = ()
    types: tuple[str, ...] | None = None
    # Events per batch as a multiple of ``ATENDE_EVENTS_BATCH``, for a handler whose work per event is a row in
    # one insert and that sees most events: with the common batch it needed more passes than the others.
    batch_scale: int = 1


# In this order: a worker runs them in this order too, so a dependency is usually done before its dependant.
SUBSCRIBERS: tuple[Subscriber, ...] = (
    # First: SLA targets, routing and triggers see the values triage applied automatically.
    Subscriber("triage", "atende.triage.subscribers.triage_on_events"),
    Subscriber("sla", "atende.sla.subscribers.sla_on_events", after=("triage",)),
    Subscriber("triggers", "atende.automation.subscribers.automation_on_events", after=("triage",)),
    Subscriber("notifications", "atende.email_channel.subscribers.notify_on_events", after=("sla",)),
    Subscriber("webhooks", "atende.integrations.subscribers.webhooks_on_events"),
    Subscriber("surveys", "atende.surveys.subscribers.surveys_on_events", types=("STATUS_CHANGED",)),
    # All but its EVENTS_IGNORED (about five events per new ticket against the others' one or two); one insert of
    # marks per batch. At a peak of 100 new tickets/s on PostgreSQL it fell behind every other subscriber.
    Subscriber("reports", "atende.reports.events.rollups_mark_on_events", batch_scale=5),
    # After SLA: an acknowledgement states the expected reply time of the policy applied.
    Subscriber("messaging", "atende.messaging.subscribers.messaging_on_events", after=("sla",),
               types=("TICKET_CREATED", "REPLY_ADDED")),
    Subscriber("chat", "atende.chat.subscribers.chat_on_events", types=("REPLY_ADDED",)),
    Subscriber("bell", "atende.console.subscribers.bell_on_events",
               types=("NOTE_ADDED", "ASSIGNEE_CHANGED", "REPLY_ADDED", "SLA_WARNING", "SLA_BREACHED")),
)

# Called after commit with a list of full payloads (ticket fields included), in order; allowed to be lost.
ON_COMMIT_HANDLERS: tuple[str, ...] = ("atende.console.realtime.push_ticket_events",)


def subscriber_named(name: str) -> Subscriber:
    for sub in SUBSCRIBERS:
        if sub.name == name:
            return sub
    raise KeyError(name)


def all_subscriber_paths() -> list[str]:
    """Every dotted path the bus calls (checked at start-up: a path that does not import fails loudly)."""
    return [*(s.handler for s in SUBSCRIBERS), *ON_COMMIT_HANDLERS]


@cache
def handled_types(sub: Subscriber, known: frozenset[str]) -> frozenset[str] | None:
    """The event types ``sub`` is handed, out of the ``known`` ones (None: all of them). A type the table does not
    know is always handed over (the dispatcher records it as skipped)."""
    if sub.types is not None:
        return frozenset(sub.types)
    ignored = getattr(import_module(sub.handler.rpartition(".")[0]), "EVENTS_IGNORED", None)
    return known - frozenset(ignored) if ignored else None


@cache
def resolve(path: str) -> Callable[..., Any]:
    return import_string(path)


def subscriber_order_problems() -> list[str]:
    """Problems with the declared order: duplicate names, ``after`` naming an unknown subscriber or one listed
    later (the start-up check ``atende.E003``; paths that do not import are ``atende.E002``)."""
    problems = []
    names = [s.name for s in SUBSCRIBERS]
    if len(set(names)) != len(names):
        problems.append("two subscribers share a name")
    for sub in SUBSCRIBERS:
        for dep in sub.after:
            if dep not in names:
                problems.append(f"subscriber {sub.name!r} runs after unknown subscriber {dep!r}")
            elif names.index(dep) >= names.index(sub.name):
                problems.append(f"subscriber {sub.name!r} must be listed after {dep!r}, which it runs after")
    return problems


_state = threading.local()


@contextmanager
def events_suppressed() -> Iterator[None]:
    """Bulk loads (demo data, imports of history): the events they write are marked backfill, subscribers pass
    over them, and nothing is pushed; the loader sets what it must itself (SLA targets, schedules)."""
    previous = getattr(_state, "suppressed", False)
    _state.suppressed = True
    try:
        yield
    finally:
        _state.suppressed = previous


def is_backfill() -> bool:
    return getattr(_state, "suppressed", False)


@contextmanager
def pushes_together() -> Iterator[None]:
    """The events committed inside the block are pushed together when it ends: one call of each on-commit
    handler with all of them, in commit order. For work that commits many events in one transaction (the
    groups of ``mail-import``); put the block around that transaction, so the push follows its commit. Events
    of a savepoint rolled back are not pushed (their on-commit callbacks are dropped, as anywhere). Nested blocks
    push with the outermost; what was held is pushed also when the block fails (it was committed)."""
    if getattr(_state, "held", None) is not None:
        yield
        return
    _state.held = held = []
    try:
        yield
    finally:
        _state.held = None
        if held:
            _push(held)


def publish(payload: dict[str, Any]) -> None:
    """Called by ``record_event`` right after it wrote the row: push it to browsers once the transaction
    commits. The subscribers need nothing from here: they read the row."""
    if is_backfill():
        return
    payload = json.loads(json.dumps(payload))  # plain JSON only; fails loudly on anything else
    transaction.on_commit(lambda: _after_commit(payload))


def _after_commit(payload: dict[str, Any]) -> None:
    held = getattr(_state, "held", None)
    if held is not None:
        held.append(payload)
    else:
        _push([payload])
    if getattr(settings, "ATENDE_EVENTS_DRAIN_ON_COMMIT", False):
        # Tests: run the dispatcher right after the commit, the way a worker would a moment later.
        from atende.core.outbox.drain import drain_inline  # the dispatcher imports this module

        drain_inline()


def _push(payloads: list[dict[str, Any]]) -> None:
    if getattr(settings, "ATENDE_EVENTS_DISABLED", False):
        return
    for path in ON_COMMIT_HANDLERS:
        try:
            resolve(path)(payloads)
        except Exception:  # a lost push costs nothing: browsers re-sync
            logger.exception("on-commit handler %s failed for %d event(s) from %s", path, len(payloads),
                             payloads[0].get("type"))
