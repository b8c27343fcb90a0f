"""The events bus: services publish committed events; subscribers are listed here, explicitly.

``publish`` registers ``transaction.on_commit`` callbacks, so nothing leaves the process (websocket pushes,
tasks) unless the change that produced the event was committed. Subscribers take plain JSON payloads.

- ``SYNC_HANDLERS``: dotted paths of functions called in-process right after commit (cheap work that must be
  visible at once: the search index, websocket pushes).
- ``TASK_SUBSCRIBERS``: dotted paths of django-tasks tasks enqueued with the event payload (SLA, automation,
  notifications, webhooks). Tasks are idempotent; they re-read rows by id.

Each entry maps an event type (or ``"*"`` for all) to a list. Apps add their subscribers here, not with signals.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

SYNC_HANDLERS: dict[str, list[str]] = {
    "*": [
        "atende.tickets.search.events.index_on_event",
        "atende.console.realtime.push_ticket_event",
        "atende.reports.events.rollups_mark_on_event",
    ],
}

TASK_SUBSCRIBERS: dict[str, list[str]] = {
    "*": [
        "atende.triage.tasks.triage_on_event_task",  # first: routing and triggers see applied suggestions
        "atende.sla.tasks.sla_on_event_task",
        "atende.automation.tasks.triggers_on_event_task",
        "atende.email_channel.tasks.notify_on_event_task",
        "atende.integrations.tasks.webhooks_on_event_task",
    ],
    "STATUS_CHANGED": ["atende.surveys.tasks.survey_on_status_changed_task"],
    "REPLY_ADDED": ["atende.messaging.tasks.messaging_on_event_task"],
}


@cache
def _resolve(path: str) -> Callable[..., Any] | None:
    try:
        return import_string(path)
    except ImportError:
        # An app that has not shipped its subscriber yet is skipped, not fatal.
        logger.debug("event subscriber %s not importable", path)
        return None


def _subscribers(table: dict[str, list[str]], event_type: str) -> list[Callable[..., Any]]:
    paths = [*table.get("*", []), *table.get(event_type, [])]
    return [fn for fn in (_resolve(p) for p in paths) if fn is not None]


_state = threading.local()


@contextmanager
def events_suppressed() -> Iterator[None]:
    """Bulk loads (demo data, imports of history) write events without delivering them; callers backfill."""
    previous = getattr(_state, "suppressed", False)
    _state.suppressed = True
    try:
        yield
    finally:
        _state.suppressed = previous


def publish(payload: dict[str, Any]) -> None:
    """Deliver ``payload`` (must contain ``type``) to every subscriber once the transaction commits."""
    if getattr(_state, "suppressed", False):
        return
    payload = json.loads(json.dumps(payload))  # plain JSON only; fails loudly on anything else
    transaction.on_commit(lambda: _deliver(payload))


def _deliver(payload: dict[str, Any]) -> None:
    if getattr(settings, "ATENDE_EVENTS_DISABLED", False):
        return
    event_type = payload["type"]
    for handler in _subscribers(SYNC_HANDLERS, event_type):
        try:
            handler(payload)
        except Exception:  # a subscriber failing must never undo or block the committed change
            logger.exception("event handler %s failed for %s", handler, event_type)
    for task in _subscribers(TASK_SUBSCRIBERS, event_type):
        try:
            task.enqueue(payload)
        except Exception:
            logger.exception("could not enqueue %s for %s", task, event_type)
