"""The notifications events subscriber (``core/events.py``, after SLA so an acknowledgement can state the expected
reply time): the emails each event calls for go to the outbound queue, keyed per (event, recipient, kind), in
the dispatcher's transaction."""

from __future__ import annotations

from typing import Any

from atende.email_channel.services import notifications_for_event


def notify_on_events(events: list[dict[str, Any]]) -> None:
    # Templates, settings and team members are read once per batch (the dispatcher's ``batch_scope``).
    for payload in events:
        notifications_for_event(payload)
