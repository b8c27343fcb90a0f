"""The notifications events subscriber (``core/events.py``, after SLA so an acknowledgement can state the expected
reply time): the emails each event calls for go to the outbound queue, keyed per (event, recipient, kind), in
the dispatcher's transaction."""

from __future__ import annotations

from typing import Any

from atende.email_channel.services import notifications_for_event
from atende.email_channel.services.notifications import BatchCache


def notify_on_events(events: list[dict[str, Any]]) -> None:
    with BatchCache():  # templates, settings and team members read once per batch
        for payload in events:
            notifications_for_event(payload)
