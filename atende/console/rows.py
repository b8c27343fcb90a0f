"""Ticket list rows rendered in Python.

A page shows up to 100 rows of up to 15 columns: rendering each cell through a template ``{% include %}`` cost far
more than the query behind the page (see docs/benchmarks.md), so every row is built here as one string, every value
from the database escaped with ``html.escape`` (``format_html`` per cell, with its lazy-string checks, cost 10 ms a
page), and the list template only loops over rows.

Timestamps were the next cost: Django's ``localize`` and ``timesince`` look up formats and translations on every
call (about 150 µs per timestamp, 15 ms for a page). ``_Clock`` looks them up once per page and gives the same
relative texts ("3 days, 2 hours ago").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape as _e  # Django's ``escape`` without its lazy-string wrapper (the same five characters)

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext, ngettext

from atende.tickets.list_items import TicketListItem
from atende.tickets.models import Ticket

_DASH = "—"
SLA_SOON = timedelta(hours=1)  # an SLA target closer than this shows as urgent


@dataclass(frozen=True)
class TicketRow:
    ticket: TicketListItem
    html: SafeString  # the whole ``<tr>``: every cell in column order (the selection box first, when asked for)


# Django's own ``timesince`` messages (its catalog translates them), so the texts match the ``timesince`` filter.
_UNITS = {
    "year": ("%(num)d year", "%(num)d years"), "month": ("%(num)d month", "%(num)d months"),
    "week": ("%(num)d week", "%(num)d weeks"), "day": ("%(num)d day", "%(num)d days"),
    "hour": ("%(num)d hour", "%(num)d hours"), "minute": ("%(num)d minute", "%(num)d minutes"),
}


class _Plural:
    """One ``timesince`` unit ("%(num)d day(s)") translated once per count and page."""

    def __init__(self, singular: str, plural: str):
        self._singular, self._plural = singular, plural
        self._done: dict[int, str] = {}

    def __mod__(self, values: dict) -> str:
        num = values["num"]
        text = self._done.get(num)
        if text is None:
            text = self._done[num] = ngettext(self._singular, self._plural, num) % {"num": num}
        return text


class _Clock:
    """Formats every timestamp of one page in the user's time zone and language."""

    def __init__(self, now: datetime):
        self.now = now
        self.tz = timezone.get_current_timezone()
        self.strings = {name: _Plural(*forms) for name, forms in _UNITS.items()}
        self.ago_text, self.overdue_text, self.in_text = (
            gettext("%(ago)s ago"), gettext("overdue by %(ago)s"), gettext("in %(left)s"))
        self.date_format = formats.get_format("DATE_FORMAT")
        self._dates: dict[date, str] = {}

    def _title(self, local: datetime) -> str:
        day = local.date()
        text = self._dates.get(day)
        if text is None:
            text = self._dates[day] = formats.date_format(day, self.date_format)
        return f"{text} {local:%H:%M}"

    def _time(self, value: datetime, text: str, css: str = "") -> str:
        local = value.astimezone(self.tz)
        css = f' class="{css}"' if css else ""
        return f'<time{css} datetime="{local.isoformat()}" title="{_e(self._title(local))}">{_e(text)}</time>'

    def since(self, value: datetime) -> str:
        return timesince(value, self.now, time_strings=self.strings)

    def ago(self, value: datetime) -> str:
        return self._time(value, self.ago_text % {"ago": self.since(value)})

    def sla_due(self, due: datetime | None) -> str:
        """Time to the next SLA target, with its urgency as a class: overdue, due within the hour, or later."""
        if not due:
            return _DASH
        if due < self.now:
            return self._time(due, self.overdue_text % {"ago": timesince(due, self.now, time_strings=self.strings)},
                              "sla sla-overdue")
        css = "sla sla-soon" if due - self.now < SLA_SOON else "sla sla-later"
        return self._time(due, self.in_text % {"left": timeuntil(due, self.now, time_strings=self.strings)}, css)


def _subject_title(ticket: TicketListItem, previews: dict[int, str]) -> str:
    """The full subject and, on a line of its own, the start of the latest message (the hover preview)."""
    preview = previews.get(ticket.pk)
    return _e(f"{ticket.subject}\n{preview}" if preview else ticket.subject).replace("\n", "&#10;")


def _tags(ticket: TicketListItem) -> str:
    if not ticket.tag_names:
        return _DASH
    return "".join(f'<span class="badge tag">{_e(name)}</span> ' for name in ticket.tag_names)


def _labels(field_name: str) -> Callable[[str], str]:
    """The escaped display label of a choice field's value, translated once per page rather than once per row."""
    labels = {value: _e(str(label)) for value, label in Ticket._meta.get_field(field_name).flatchoices}
    return lambda value: labels.get(value) or _e(value)


def _name(obj, attribute: str = "name") -> str:
    value = getattr(obj, attribute) if obj is not None else ""
    return _e(value) if value else _DASH


AVATAR_COLOURS = 8  # .avatar-0 … .avatar-7 in console.css


def initials(name: str) -> str:
    """Up to two letters: the first of the first and of the last word ("Ana Maria Souza" → "AS")."""
    words = [w for w in name.replace("@", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    return (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()


def _assignee(person) -> str:
    name = person.display_name
    return (f'<span class="avatar avatar-{person.pk % AVATAR_COLOURS}" aria-hidden="true">{_e(initials(name))}'
            f'</span> {_e(name)}')


def _cell_renderers(ticket_url: Callable[[TicketListItem], str], clock: _Clock, previews: dict[int, str]
                    ) -> dict[str, Callable[[TicketListItem], str]]:
    """Each column's cell content as escaped HTML: every value from the database goes through ``_e``."""
    status, priority, type_, channel = (_labels(f) for f in ("status", "priority", "type", "channel"))
    unassigned = f'<span class="muted">{_e(gettext("Unassigned"))}</span>'
    return {
        "number": lambda t: f'<a href="{ticket_url(t)}">#{t.number}</a>',
        "subject": lambda t: (f'<a href="{ticket_url(t)}" class="subject" title="{_subject_title(t, previews)}">'
                              f'{_e(t.subject)}</a>'),
        "requester": lambda t: _e(t.requester.display_name),
        "organization": lambda t: _name(t.organization),
        "status": lambda t: f'<span class="badge status-{_e(t.status)}">{status(t.status)}</span>',
        "priority": lambda t: f'<span class="badge priority-{_e(t.priority)}">{priority(t.priority)}</span>',
        "team": lambda t: _name(t.team),
        "assignee": lambda t: _assignee(t.assignee) if t.assignee is not None else unassigned,
        "category": lambda t: _e(str(t.category)) if t.category else _DASH,
        "type": lambda t: type_(t.type),
        "channel": lambda t: channel(t.channel),
        "tags": _tags,
        "created_at": lambda t: clock.ago(t.created_at),
        "updated_at": lambda t: clock.ago(t.updated_at),
        "sla_due_at": lambda t: clock.sla_due(t.sla_due_at),
    }


def ticket_rows(tickets: Iterable[TicketListItem], *, columns: list[tuple[str, str]], now: datetime,
                selectable: bool = False, previews: dict[int, str] | None = None) -> list[TicketRow]:
    """The ``<tr>`` of each ticket with the cells of ``columns`` (``(key, label)`` pairs), escaped and ready to
    show; ``selectable`` puts the bulk actions' check box first; ``previews`` (ticket id → the start of its
    latest message) go into the subject's hover text."""
    # Reverse once: every ticket URL differs only by its number.
    url_prefix, url_suffix = (_e(part) for part in reverse("console:ticket", args=[0]).rsplit("0", 1))
    renderers = _cell_renderers(lambda t: f"{url_prefix}{int(t.number or 0)}{url_suffix}", _Clock(now),
                                previews or {})
    wanted = [(f'<td class="col-{_e(key)}" data-label="{_e(str(label))}">', renderers[key])
              for key, label in columns if key in renderers]
    select_label = _e(gettext("Select ticket #%(number)s"))
    rows = []
    for ticket in tickets:
        cells = "".join(f"{opening}{render(ticket)}</td>" for opening, render in wanted)
        pk, number = int(ticket.pk), int(ticket.number or 0)
        if selectable:
            label = select_label % {"number": number}
            cells = (f'<td class="select-col"><input type="checkbox" name="tickets" value="{pk}" '
                     f'aria-label="{label}"></td>{cells}')
        html = f'<tr data-ticket-id="{pk}" data-ticket-number="{number}">{cells}</tr>'
        rows.append(TicketRow(ticket=ticket, html=mark_safe(html)))  # every value was escaped above
    return rows


def search_hit_items(hits: Iterable, *, now: datetime) -> list[SafeString]:
    """Each search hit's ``<li>``: number, highlighted subject, status, excerpt and who/when, escaped like rows."""
    url_prefix, url_suffix = (_e(part) for part in reverse("console:ticket", args=[0]).rsplit("0", 1))
    clock = _Clock(now)
    status = _labels("status")
    unassigned = _e(gettext("Unassigned"))
    badges = {"notes": f'<span class="badge">{_e(gettext("Internal note"))}</span> ',
              "people": f'<span class="badge">{_e(gettext("Requester"))}</span> '}
    updated = gettext("updated %(ago)s ago")
    items = []
    for hit in hits:
        t = hit.ticket
        number = int(t.number or 0)
        snippet = ""
        if hit.snippet_html:  # already escaped, with <mark> around the matches
            note = " from-note" if hit.snippet_source == "notes" else ""
            snippet = (f'<p class="search-snippet{note}">{badges.get(hit.snippet_source, "")}'
                       f'{hit.snippet_html}</p>')
        people = _e(t.requester.display_name)
        if t.organization:
            people += f" · {_e(t.organization.name)}"
        people += f" · {_e(t.assignee.display_name) if t.assignee is not None else unassigned}"
        people += f" · {_e(updated % {'ago': clock.since(t.updated_at)})}"
        items.append(mark_safe(  # every value escaped above; subject and snippet come escaped from the search
            f'<li class="search-hit" data-ticket-number="{number}"><div class="search-hit-title">'
            f'<a href="{url_prefix}{number}{url_suffix}"><span class="muted">#{number}</span> {hit.subject_html}</a> '
            f'<span class="badge status-{_e(t.status)}">{status(t.status)}</span></div>{snippet}'
            f'<p class="muted small">{people}</p></li>'))
    return items
