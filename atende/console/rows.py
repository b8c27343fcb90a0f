"""Ticket list rows rendered in Python.

A page shows up to 100 rows of up to 15 columns: rendering each cell through a template ``{% include %}`` cost far
more than the query behind the page (see docs/benchmarks.md), so every cell is built here with ``format_html``
(which escapes every value) and the list template only loops over rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import formats
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince, timeuntil
from django.utils.timezone import template_localtime
from django.utils.translation import gettext

from atende.tickets.models import Ticket

_DASH = "—"


@dataclass(frozen=True)
class TicketRow:
    ticket: Ticket
    cells: SafeString  # every ``<td>`` of the row, in column order


def _time(value: datetime, text: str) -> SafeString:
    local = template_localtime(value)
    return format_html('<time datetime="{}" title="{}">{}</time>', date_format(local, "c"),
                       formats.localize(local), text)


def _ago(value: datetime) -> SafeString:
    return _time(value, gettext("%(ago)s ago") % {"ago": timesince(value)})


def _sla_due(ticket: Ticket, now: datetime) -> str:
    due = ticket.sla_due_at
    if not due:
        return _DASH
    if due < now:
        return _time(due, gettext("overdue by %(ago)s") % {"ago": timesince(due)})
    return _time(due, gettext("in %(left)s") % {"left": timeuntil(due)})


def _tags(ticket: Ticket) -> str:
    tags = ticket.tags.all()
    if not tags:
        return _DASH
    return format_html_join("", '<span class="badge tag">{}</span> ', ((tag.name,) for tag in tags))


def _assignee(ticket: Ticket) -> str:
    if ticket.assignee is not None:
        return ticket.assignee.display_name
    return format_html('<span class="muted">{}</span>', gettext("Unassigned"))


def _labels(field_name: str) -> Callable[[str], str]:
    """The display label of a choice field's value, translated once per page rather than once per row."""
    labels = {value: str(label) for value, label in Ticket._meta.get_field(field_name).flatchoices}
    return lambda value: labels.get(value, value)


def _cell_renderers(ticket_url: Callable[[Ticket], str], now: datetime) -> dict[str, Callable[[Ticket], str]]:
    status, priority, type_, channel = (_labels(f) for f in ("status", "priority", "type", "channel"))
    return {
        "number": lambda t: format_html('<a href="{}">#{}</a>', ticket_url(t), t.number),
        "subject": lambda t: format_html('<a href="{}" class="subject">{}</a>', ticket_url(t), t.subject),
        "requester": lambda t: t.requester.display_name,
        "organization": lambda t: t.organization.name if t.organization and t.organization.name else _DASH,
        "status": lambda t: format_html('<span class="badge status-{}">{}</span>', t.status, status(t.status)),
        "priority": lambda t: format_html('<span class="badge priority-{}">{}</span>', t.priority,
                                          priority(t.priority)),
        "team": lambda t: t.team.name if t.team and t.team.name else _DASH,
        "assignee": _assignee,
        "category": lambda t: str(t.category) if t.category else _DASH,
        "type": lambda t: type_(t.type),
        "channel": lambda t: channel(t.channel),
        "tags": _tags,
        "created_at": lambda t: _ago(t.created_at),
        "updated_at": lambda t: _ago(t.updated_at),
        "sla_due_at": lambda t: _sla_due(t, now),
    }


def ticket_rows(tickets: Iterable[Ticket], *, columns: list[tuple[str, str]], now: datetime) -> list[TicketRow]:
    """The ``<td>`` cells of each ticket for ``columns`` (``(key, label)`` pairs), escaped and ready to show."""
    # Reverse once: every ticket URL differs only by its number.
    url_prefix, url_suffix = reverse("console:ticket", args=[0]).rsplit("0", 1)
    renderers = _cell_renderers(lambda t: f"{url_prefix}{t.number}{url_suffix}", now)
    wanted = [(key, label, renderers[key]) for key, label in columns if key in renderers]
    rows = []
    for ticket in tickets:
        cells = format_html_join("", '<td class="col-{}" data-label="{}">{}</td>',
                                 ((key, label, render(ticket)) for key, label, render in wanted))
        rows.append(TicketRow(ticket=ticket, cells=mark_safe(cells)))
    return rows
