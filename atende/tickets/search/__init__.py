"""Full-text search over tickets: subject, public replies, internal notes and the requester's name and email.

One interface, two engines chosen by ``connection.vendor``: SQLite FTS5 (``search/sqlite.py``) and PostgreSQL
``tsvector`` + GIN (``search/postgres.py``). The index is a table of its own, one row per ticket, kept up to
date in each change's own transaction (``record_event`` calls ``search.events.index_for_events``: a new reply or
note is appended to the row, other text changes rebuild it), and filled in bulk by ``reindex_tickets`` (the bulk
seeder calls it inside its batches).

Searches always start from ``tickets.selectors.ticket_list_for_user``: nobody finds a ticket they may not open.
Ranking looks at the newest ``SEARCH_WINDOW`` matching tickets (after visibility and qualifiers), so a word
present in half a million tickets costs what a rarer one costs; qualifiers reach older tickets.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from atende.core.exceptions import ValidationError
from atende.core.pagination import keyset_page
from atende.tickets.filters import TicketFilters, apply_ticket_filters, parse_search_query, ticket_filter_branches
from atende.tickets.models import Ticket
from atende.tickets.search import postgres, sqlite
from atende.tickets.search.sqlite import CLOSE, OPEN
from atende.tickets.search.text import Term, parse_terms
from atende.tickets.selectors import ticket_list_for_user, ticket_visibility_filter

__all__ = ["SearchHit", "SearchPage", "append_messages", "reindex_all", "reindex_tickets", "search_tickets"]

DEFAULT_WINDOW = 2000  # matches ranked per search; see docs/console.md (search at 1,000,000 tickets)
MAX_SIZE = 200
_SIGNER = signing.Signer(salt="atende.search")


@dataclass
class SearchHit:
    ticket: Ticket
    score: float | None
    subject_html: SafeString
    snippet_html: SafeString
    snippet_source: str  # "body", "notes", "people" or "" (which text the excerpt comes from)


@dataclass
class SearchPage:
    items: list[SearchHit]
    next_cursor: str | None
    has_next: bool
    text: str
    filters: TicketFilters = field(default_factory=TicketFilters)
    ranked: bool = False
    window_full: bool = False  # more matches exist beyond the newest SEARCH_WINDOW tickets


def _backend():
    return postgres if connection.vendor == "postgresql" else sqlite


def reindex_tickets(ticket_ids: list[int], *, new: frozenset[int] = frozenset()) -> None:
    """(Re)build the index rows of these tickets, in bulk: a few statements per 500–1,000 tickets. ``new``: ids
    of tickets created in this transaction, which have no row to replace yet. Inside a transaction no savepoint
    is taken: a failure here fails the change it indexes."""
    ids = sorted({int(pk) for pk in ticket_ids})
    if not ids:
        return
    with transaction.atomic(savepoint=False):
        _backend().reindex(ids, new=new)


def append_messages(messages: list[tuple[int, int, str]]) -> set[int]:
    """Add one new message to each of these tickets' rows, ``(ticket id, message id, kind)`` (kind ``reply``:
    public text, ``note``: internal notes), without reading the ticket's other messages; the ids of the tickets
    done. A ticket left out (no row yet, the message not found, the text past the engine's limit) needs
    ``reindex_tickets``."""
    if not messages:
        return set()
    with transaction.atomic(savepoint=False):
        return _backend().append(messages)


def reindex_all(*, batch_size: int = 5000) -> int:
    """Rebuild the whole index (after a restore, or for demo data loaded with events suppressed)."""
    last, total = 0, 0
    while True:
        ids = list(Ticket.objects.filter(id__gt=last).order_by("id").values_list("id", flat=True)[:batch_size])
        if not ids:
            return total
        reindex_tickets(ids)
        total += len(ids)
        last = ids[-1]


def _mark(text: str) -> SafeString:
    """Escape the engine's text, then turn its match markers into <mark>."""
    return mark_safe(escape(text or "").replace(OPEN, "<mark>").replace(CLOSE, "</mark>"))


def _query_key(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()[:12]


def _read_offset(cursor: str | None, query: str) -> int:
    if not cursor:
        return 0
    try:
        key, offset = _SIGNER.unsign(cursor).split(":")
        if key != _query_key(query):
            raise ValueError
        return max(0, int(offset))
    except (signing.BadSignature, ValueError):
        raise ValidationError("The page cursor is invalid.", code="invalid_cursor")


def search_tickets(*, user, query: str, cursor: str | None = None, size: int = 50) -> SearchPage:
    """Tickets matching ``query`` (free text plus qualifiers, see ``tickets.filters.parse_search_query``) that
    ``user`` may see: ranked with highlighted excerpts when there is text, else newest-updated first."""
    size = max(1, min(int(size), MAX_SIZE))
    text, filters = parse_search_query(query, user=user)
    terms = parse_terms(text)
    if not terms:
        branches, rest = ticket_filter_branches(filters, user=user, order="-updated_at")
        qs = apply_ticket_filters(ticket_list_for_user(user=user), rest, user=user)
        page = keyset_page(qs.for_list(), order="-updated_at", cursor=cursor,
                           size=size, branches=branches)
        items = [SearchHit(ticket=t, score=None, subject_html=escape(t.subject), snippet_html=mark_safe(""),
                           snippet_source="") for t in page.items]
        return SearchPage(items=items, next_cursor=page.next_cursor, has_next=page.has_next, text=text,
                          filters=filters)
    qs = apply_ticket_filters(ticket_list_for_user(user=user), filters, user=user)
    return _ranked(user=user, qs=qs, terms=terms, text=text, filters=filters, query=query, cursor=cursor, size=size)


def _ranked(*, user, qs, terms: list[Term], text: str, filters: TicketFilters, query: str, cursor: str | None,
            size: int) -> SearchPage:
    backend = _backend()
    include_notes = bool(user.is_staff_member)
    offset = _read_offset(cursor, query)

    window = int(getattr(settings, "ATENDE_SEARCH_WINDOW", DEFAULT_WINDOW))
    found = None
    if ticket_visibility_filter(user) is None and filters == TicketFilters():
        found = _ranked_from_index(backend, qs, terms, include_notes=include_notes, offset=offset, limit=size + 1,
                                   window=window)
    rows, window_full = found or backend.ranked_ids(qs, terms, include_notes=include_notes, offset=offset,
                                                    limit=size + 1, window=window)
    has_next = len(rows) > size
    rows = rows[:size]
    ids = [pk for pk, _score in rows]
    tickets = Ticket.objects.for_list().in_bulk(ids)
    marks = backend.highlights(ids, terms, include_notes=include_notes)
    items = []
    for pk, score in rows:
        ticket = tickets.get(pk)
        if ticket is None:
            continue
        item_marks: dict[str, Any] = marks.get(pk, {})
        source, excerpt = _best_excerpt(item_marks)
        items.append(SearchHit(ticket=ticket, score=score, subject_html=_mark(item_marks.get("subject") or
                                                                                ticket.subject),
                               snippet_html=_mark(excerpt), snippet_source=source))
    next_cursor = _SIGNER.sign(f"{_query_key(query)}:{offset + size}") if has_next else None
    return SearchPage(items=items, next_cursor=next_cursor, has_next=has_next, text=text, filters=filters,
                      ranked=True, window_full=window_full)


INDEX_SLACK = 50  # extra candidates read from the index, for the few that turn out to be spam


def _ranked_from_index(backend, qs, terms: list[Term], *, include_notes: bool, offset: int, limit: int,
                       window: int) -> tuple[list[tuple[int, float]], bool] | None:
    """For someone who sees every ticket and asked for no qualifier: rank in the search index alone, without
    joining every match in the window to the ticket table (a third of the ranking's time), then drop candidates
    the list leaves out (spam). ``None`` when too many were dropped to fill the page: the caller ranks with the
    join then."""
    wanted = offset + limit
    candidates, window_full = backend.index_ranked(terms, include_notes=include_notes, count=wanted + INDEX_SLACK,
                                                   window=window)
    listed = set(qs.filter(pk__in=[pk for pk, _ in candidates]).values_list("pk", flat=True))
    kept = [(pk, score) for pk, score in candidates if pk in listed]
    if len(kept) < wanted and len(candidates) == wanted + INDEX_SLACK:
        return None
    return kept[offset:wanted], window_full


def _best_excerpt(marks: dict[str, str]) -> tuple[str, str]:
    """The excerpt that shows a match: public text first, then notes, then the requester; else the body's start."""
    for source in ("body", "notes", "people"):
        if OPEN in (marks.get(source) or ""):
            return source, marks[source]
    return ("body", marks["body"]) if marks.get("body") else ("", "")
