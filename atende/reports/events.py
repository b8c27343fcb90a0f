"""Keeps the rollups current: an events-bus handler (``core/events.py`` SYNC_HANDLERS) run after each commit.

It only writes a mark (one small insert); ``rollups_refresh_task`` recomputes the marked tickets' buckets every
minute, so a burst of events on one ticket costs one recompute.
"""

from __future__ import annotations

from typing import Any

from atende.reports.services import rollups_mark_tickets
from atende.tickets.choices import TicketEventType

# Events that change nothing a report counts (the ticket row's times, status, team, channel, category, assignee,
# tags, SLA targets, spam flag are all changed with other events). Anything else marks the ticket.
IGNORED = frozenset({
    TicketEventType.NOTE_ADDED, TicketEventType.ATTACHMENT_ADDED, TicketEventType.LINK_ADDED,
    TicketEventType.LINK_REMOVED, TicketEventType.FOLLOWERS_CHANGED, TicketEventType.SLA_WARNING,
    TicketEventType.NOTIFICATION_SENT, TicketEventType.NOTIFICATION_FAILED, TicketEventType.EMAIL_BOUNCED,
    TicketEventType.SURVEY_ANSWERED,
})


def rollups_mark_on_event(payload: dict[str, Any]) -> None:
    ticket_id = payload.get("ticket_id")
    if not ticket_id or payload.get("type") in IGNORED:
        return

    rollups_mark_tickets(ticket_ids=[int(ticket_id)])
