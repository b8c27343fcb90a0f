"""The search page: full text with qualifiers, ranked and highlighted; ``#123`` jumps to the ticket."""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from atende.console.rows import search_hit_items
from atende.console.views._common import console_view, is_htmx
from atende.core.exceptions import DomainError, NotFound
from atende.tickets.search import search_tickets
from atende.tickets.selectors import access_ticket

PAGE_SIZE = 25


@require_GET
@console_view()
def search(request):
    query = (request.GET.get("q") or "").strip()[:500]
    context = {"query": query, "results": None, "error": "", "missing_number": None}
    if query:
        number = _lone_number(query)
        if number is not None:
            try:
                ticket = access_ticket(user=request.user, number=number)
            except NotFound:
                context["missing_number"] = number
            else:
                return HttpResponseRedirect(reverse("console:ticket", args=[ticket.number]))
        try:
            results = search_tickets(user=request.user, query=query, cursor=request.GET.get("cursor"),
                                     size=PAGE_SIZE)
            context["results"] = results
            context["hit_items"] = search_hit_items(results.items, now=timezone.now())
        except DomainError as exc:
            context["error"] = exc.message
    template = "console/_search_results.html" if is_htmx(request) else "console/search.html"
    return render(request, template, context)


def _lone_number(query: str) -> int | None:
    """``#123`` alone jumps straight to that ticket (a bare ``500`` is searched: it may be an error code)."""
    value = query[1:] if query.startswith("#") else ""
    return int(value) if value.isdigit() and len(value) <= 18 else None
