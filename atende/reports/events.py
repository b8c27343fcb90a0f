"""Keeps the rollups current: an events subscriber (``core/events.py``). It only writes marks (one bulk insert per
batch); ``rollups_refresh_task`` recomputes the marked tickets' buckets every minute, so a burst of events on one
ticket costs one recompute."""

from __future__ import annotations

from typing import Any

from atende.reports.services import rollups_mark_tickets
from atende.tickets.choices import TicketEventType

# Events that change nothing a report counts (the ticket row's times, status, team, channel, category, assignee,
# tags, SLA targets, spam flag are all changed with other events). Anything else marks the ticket. The dispatcher
# does not hand these over at all (``core.events.handled_types``).
EVENTS_IGNORED = IGNORED = frozenset({
    TicketEventType.NOTE_ADDED, TicketEventType.ATTACHMENT_ADDED, TicketEventType.LINK_ADDED,
    TicketEventType.LINK_REMOVED, TicketEventType.FOLLOWERS_CHANGED, TicketEventType.SLA_WARNING,
    TicketEventType.NOTIFICATION_SENT, TicketEventType.NOTIFICATION_FAILED, TicketEventType.EMAIL_BOUNCED,
    TicketEventType.SURVEY_ANSWERED,
})


def rollups_mark_on_events(events: list[dict[str, Any]]) -> None:
    ticket_ids = {int(e["ticket_id"]) for e in events if e.get("ticket_id") and e["type"] not in IGNORED}
    if ticket_ids:
        rollups_mark_tickets(ticket_ids=ticket_ids)
