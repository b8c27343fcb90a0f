"""Real subscribers for the dispatcher's tests: each writes one row per event it handles (a throttle row keyed by
the subscriber and event id, whose unique key would refuse a second effect) and remembers the batches it got.

``FAIL_ON`` makes chosen events fail (``"boom"``: a plain error, retried; ``"bad"``: ``BadEvent``, parked at once)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from atende.core import events as event_stream
from atende.core.models import ThrottleBucket
from atende.core.outbox import dispatch
from atende.core.outbox.dispatch import BadEvent

BATCHES: dict[str, list[list[int]]] = {}
FAIL_ON: dict = {}  # event id (every subscriber) or (subscriber, event id) -> "boom" | "bad"
SCOPE = "test-effect"

# Three recording subscribers: the second runs after the first for the same event.
FIRST = event_stream.Subscriber("first", "atende.core.testing.subscribers.first")
SECOND = event_stream.Subscriber("second", "atende.core.testing.subscribers.second", after=("first",))
THIRD = event_stream.Subscriber("third", "atende.core.testing.subscribers.third")


def use(monkeypatch, subscribers=(FIRST, SECOND, THIRD)) -> None:
    """Make ``subscribers`` the stream's only subscribers for a test, with nothing recorded yet."""
    monkeypatch.setattr(event_stream, "SUBSCRIBERS", tuple(subscribers))
    monkeypatch.setattr(dispatch, "SUBSCRIBERS", tuple(subscribers))
    reset()


def effects(name: str) -> list[int]:
    return sorted(int(s.split(":")[1]) for s in ThrottleBucket.objects.filter(scope=SCOPE, subject__startswith=f"{name}:")
                  .values_list("subject", flat=True))


def _handle(name: str, events: list[dict[str, Any]]) -> None:
    BATCHES.setdefault(name, []).append([e["event_id"] for e in events])
    for event in events:
        mode = FAIL_ON.get((name, event["event_id"])) or FAIL_ON.get(event["event_id"])
        if mode == "bad":
            raise BadEvent(f"event {event['event_id']} has no usable data")
        if mode == "boom":
            raise RuntimeError(f"subscriber bug on event {event['event_id']}")
        ThrottleBucket.objects.create(scope=SCOPE, subject=f"{name}:{event['event_id']}", period=1, window_start=0,
                                      expires_at=timezone.now() + dt.timedelta(days=1))


def first(events):
    _handle("first", events)


def second(events):
    _handle("second", events)


def reset() -> None:
    BATCHES.clear()
    FAIL_ON.clear()


def third(events):
    _handle("third", events)
