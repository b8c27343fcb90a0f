"""The notifications events subscriber (``core/events.py``, after SLA so an acknowledgement can state the expected
reply time): the emails each event calls for go to the outbound queue, keyed per (event, recipient, kind), in
the dispatcher's transaction."""

from __future__ import annotations

from typing import Any

from atende.email_channel.services.notifications import notifications_for_events


def notify_on_events(events: list[dict[str, Any]]) -> None:
    # The batch's tickets, messages and users are read once, templates and settings once per batch (the
    # dispatcher's ``batch_scope``); the mails go to the outbound queue in one insert.
    notifications_for_events(events)
