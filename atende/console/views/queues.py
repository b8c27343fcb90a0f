"""Queue pages: the built-in queues and saved views as keyset-paginated ticket lists, and their live counts."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from atende.console.forms import BulkBar
from atende.console.models import ListColumn
from atende.console.rows import ticket_rows
from atende.console.selectors import (
    BUILTIN_QUEUES,
    COUNT_CAP,
    DEFAULT_PAGE_SIZE,
    PAGE_SIZES,
    can_edit_saved_view,
    last_message_previews,
    queue_counts_cached,
    queue_get,
    queue_list_for_user,
    queue_tickets_page,
)
from atende.console.views._common import console_view, is_htmx
from atende.core.exceptions import NotFound, ValidationError


def _page_size(request) -> int:
    try:
        size = int(request.GET.get("size", DEFAULT_PAGE_SIZE))
    except ValueError:
        return DEFAULT_PAGE_SIZE
    return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE


def _render_queue(request, *, key: str | None = None, view_id: int | None = None):
    try:
        queue = queue_get(user=request.user, key=key, view_id=view_id)
    except NotFound:
        raise Http404
    size = _page_size(request)
    cursor = request.GET.get("cursor") or None
    try:
        page = queue_tickets_page(user=request.user, queue=queue, cursor=cursor, size=size)
        cursor_error = ""
    except ValidationError as exc:  # a stale or tampered cursor: show the first page
        page = queue_tickets_page(user=request.user, queue=queue, size=size)
        cursor, cursor_error = None, exc.message
    base_path = request.path
    params = {"view": key} if view_id is None and key else {}
    def url(**extra) -> str:
        query = urlencode({**params, **{k: v for k, v in extra.items() if v}})
        return f"{base_path}?{query}" if query else base_path

    labels = dict(ListColumn.choices)
    columns = [(c, labels[c]) for c in queue.columns]
    context = {
        "queue": queue,
        "columns": columns,
        "rows": ticket_rows(page.items, columns=columns, now=timezone.now(), selectable=request.user.is_agent,
                            previews=last_message_previews(ticket_ids=[t.pk for t in page.items])),
        "page_url": url(size=size if size != DEFAULT_PAGE_SIZE else None, cursor=cursor),
        "first_page_url": url(size=size if size != DEFAULT_PAGE_SIZE else None),
        "next_page_url": url(size=size if size != DEFAULT_PAGE_SIZE else None, cursor=page.next_cursor),
        "size_url": url() + ("&" if params else "?") + "size=",
        "page": page,
        "size": size,
        "page_sizes": PAGE_SIZES,
        "cursor": cursor,
        "cursor_error": cursor_error,
        "can_edit_view": queue.saved_view is not None and can_edit_saved_view(request.user, queue.saved_view),
        "bulk_bar": BulkBar() if request.user.is_agent else None,
    }
    template = "console/_ticket_list.html" if is_htmx(request) else "console/queues.html"
    return render(request, template, context)


@require_GET
@console_view()
def queues(request):
    """``/console/?view=<key>``: a built-in queue (default: my open tickets)."""
    return _render_queue(request, key=request.GET.get("view") or None)


@require_GET
@console_view()
def saved_view(request, view_id: int):
    """``/console/views/<id>/``: a saved view the user owns or that is shared with one of their teams."""
    return _render_queue(request, view_id=view_id)


@require_GET
@console_view()
def queue_nav(request):
    """The queue navigation with live counts (htmx refreshes it when a ticket changes)."""
    queues = queue_list_for_user(user=request.user)
    counts = queue_counts_cached(user=request.user, queues=queues)
    builtin_keys = {b.key for b in BUILTIN_QUEUES}
    return render(request, "console/_queue_nav.html", {
        "builtin": [(q, counts[q.key]) for q in queues if q.key in builtin_keys],
        "saved": [(q, counts[q.key]) for q in queues if q.key not in builtin_keys],
        "current": request.GET.get("current", ""),
        "cap": COUNT_CAP,
    })
