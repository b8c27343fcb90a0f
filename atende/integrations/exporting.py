"""``atende export``: tickets (optionally with their messages) as CSV or JSON lines, streamed in batches.

The JSON lines are the format ``atende import`` reads (one ticket per line), and the CSV has the import's
columns (one row per message), so an export can be imported elsewhere as it is.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any, TextIO

from atende.accounts.models import User
from atende.integrations.importing.readers import CSV_COLUMNS
from atende.tickets.filters import TicketFilters, apply_ticket_filters
from atende.tickets.models import Message, Ticket
from atende.tickets.selectors import ticket_list_for_user

BATCH = 500


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def export_queryset(*, user: User | None, filters: TicketFilters):
    """What to export: everything (``user`` None: a system export) or what ``user`` may see, filtered."""
    qs = Ticket.objects.all() if user is None else ticket_list_for_user(user=user)
    return apply_ticket_filters(qs, filters, user=user)


def _batches(qs) -> Iterator[list[Ticket]]:
    last = 0
    while True:
        batch = list(qs.filter(pk__gt=last).order_by("pk").select_related(
            "requester", "assignee", "team", "organization", "category").prefetch_related("tags")[:BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def _messages(ticket_ids: list[int], include_notes: bool) -> dict[int, list[Message]]:
    qs = Message.objects.filter(ticket_id__in=ticket_ids).select_related("author").order_by("created_at", "id")
    if not include_notes:
        qs = qs.filter(kind="reply")
    grouped: dict[int, list[Message]] = {}
    for message in qs:
        grouped.setdefault(message.ticket_id, []).append(message)
    return grouped


def _person(user) -> dict[str, Any] | None:
    return {"email": user.email, "name": user.name} if user is not None else None


def ticket_record(ticket: Ticket, messages: list[Message] | None) -> dict[str, Any]:
    data = {
        "external_id": ticket.external_id or str(ticket.number), "number": ticket.number, "subject": ticket.subject,
        "status": ticket.status, "priority": ticket.priority, "type": ticket.type, "channel": ticket.channel,
        "requester": _person(ticket.requester), "assignee": _person(ticket.assignee),
        "team": ticket.team.name if ticket.team_id else None,
        "organization": ticket.organization.name if ticket.organization_id else None,
        "category": str(ticket.category) if ticket.category_id else None,
        "tags": sorted(t.name for t in ticket.tags.all()), "custom_fields": ticket.custom_fields,
        "created_at": _iso(ticket.created_at), "updated_at": _iso(ticket.updated_at),
        "solved_at": _iso(ticket.solved_at), "closed_at": _iso(ticket.closed_at),
    }
    if messages is not None:
        data["messages"] = [{
            "external_id": m.external_id or f"message-{m.pk}", "kind": m.kind if m.kind != "system" else "note",
            "author": _person(m.author), "author_kind": m.author_kind, "body_text": m.body_text,
            "body_html": m.body_html, "created_at": _iso(m.created_at),
        } for m in messages]
    return data


def export_tickets(out: TextIO, *, user: User | None = None, filters: TicketFilters | None = None,
                   fmt: str = "jsonl", with_messages: bool = False, include_notes: bool = True,
                   progress=None) -> int:
    """Write the tickets to ``out`` batch by batch; returns how many were written."""
    qs = export_queryset(user=user, filters=filters or TicketFilters())
    notes = include_notes and (user is None or user.is_staff_member)
    writer = None
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
    written = 0
    for batch in _batches(qs):
        threads = _messages([t.pk for t in batch], notes) if (with_messages or fmt == "csv") else {}
        for ticket in batch:
            thread = threads.get(ticket.pk, []) if (with_messages or fmt == "csv") else None
            if fmt == "csv":
                _write_csv_rows(writer, ticket, thread if with_messages else thread[:1])
            else:
                out.write(json.dumps(ticket_record(ticket, thread), ensure_ascii=False) + "\n")
            written += 1
        if progress:
            progress(written, None)
    return written


def _write_csv_rows(writer: csv.DictWriter, ticket: Ticket, messages: list[Message]) -> None:
    base = {
        "external_id": ticket.external_id or str(ticket.number), "subject": ticket.subject, "status": ticket.status,
        "priority": ticket.priority, "type": ticket.type, "channel": ticket.channel,
        "requester_email": ticket.requester.email, "requester_name": ticket.requester.name,
        "organization": ticket.organization.name if ticket.organization_id else "",
        "team": ticket.team.name if ticket.team_id else "",
        "assignee_email": ticket.assignee.email if ticket.assignee_id else "",
        "tags": " ".join(sorted(t.name for t in ticket.tags.all())),
        "created_at": _iso(ticket.created_at), "updated_at": _iso(ticket.updated_at),
    }
    if not messages:
        writer.writerow(base)
    for m in messages:
        writer.writerow({**base, "message_external_id": m.external_id or f"message-{m.pk}",
                         "message_kind": m.kind if m.kind != "system" else "note",
                         "message_author_email": m.author.email if m.author_id else "",
                         "message_body": m.body_text, "message_created_at": _iso(m.created_at)})
