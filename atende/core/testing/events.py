"""A real on-commit handler for tests: ``delivered_events`` lists every payload the events bus pushed after commit.

Use it with ``django_capture_on_commit_callbacks(execute=True)``: the bus runs exactly as in production (payloads
are JSON round-tripped and pushed on commit), but to this recorder only, and no subscriber runs, so a test sees
which events a change recorded without depending on the other apps.
"""

from __future__ import annotations

from typing import Any

import pytest

DELIVERED: list[dict[str, Any]] = []


def record(payloads: list[dict[str, Any]]) -> None:
    DELIVERED.extend(payloads)


@pytest.fixture
def delivered_events(monkeypatch):
    from atende.core import events
    from atende.core.outbox import dispatch

    monkeypatch.setattr(events, "ON_COMMIT_HANDLERS", ("atende.core.testing.events.record",))
    monkeypatch.setattr(dispatch, "SUBSCRIBERS", ())
    DELIVERED.clear()
    yield DELIVERED
    DELIVERED.clear()
