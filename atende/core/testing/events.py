"""A real subscriber for tests: ``delivered_events`` lists every payload the events bus delivered after commit.

Use it with ``django_capture_on_commit_callbacks(execute=True)``: the bus runs exactly as in production (payloads
are JSON round-tripped and delivered on commit), but to this recorder only, so a test sees what the other apps'
subscribers would receive without depending on them.
"""

from __future__ import annotations

from typing import Any

import pytest

DELIVERED: list[dict[str, Any]] = []


def record(payload: dict[str, Any]) -> None:
    DELIVERED.append(payload)


@pytest.fixture
def delivered_events(monkeypatch):
    from atende.core import events

    monkeypatch.setattr(events, "SYNC_HANDLERS", {"*": ["atende.core.testing.events.record"]})
    monkeypatch.setattr(events, "TASK_SUBSCRIBERS", {})
    DELIVERED.clear()
    yield DELIVERED
    DELIVERED.clear()
