"""The notifications events subscriber (``core/events.py``, after SLA so an acknowledgement can state the expected
reply time): the emails each event calls for go to the outbound queue, keyed per (event, recipient, kind), in
the dispatcher's transaction."""

from __future__ import annotations

from typing import Any

from atende.email_channel.services.notifications import MAILED_ON, notifications_for_events
from atende.tickets.choices import TicketEventType

# The dispatcher does not hand over events that never call for a mail (``core.events.handled_types``): a batch of
# them (the SLA's, automation's, tags and priority changes) costs no transaction.
EVENTS_IGNORED = frozenset(TicketEventType.values) - MAILED_ON


def notify_on_events(events: list[dict[str, Any]]) -> None:
    # The batch's tickets, messages and users are read once, templates and settings once per batch (the
    # dispatcher's ``batch_scope``); the mails go to the outbound queue in one insert.
    notifications_for_events(events)
