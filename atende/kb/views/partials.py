"""htmx endpoints: suggestions on the request form, the agents' article picker, and the deflection beacon."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from atende.kb import selectors
from atende.kb.services import deflections_abandon
from atende.kb.views._common import writer_required


@require_GET
def kb_suggest(request):
    text = " ".join(request.GET.get(k, "") for k in ("subject", "description", "q"))[:1000].strip()
    articles = selectors.article_suggestions(user=request.user, text=text) if len(text) >= 3 else []
    return render(request, "kb/_suggestions.html", {"articles": articles, "query": text[:200]})


@require_GET
@writer_required
def kb_picker(request):
    query = request.GET.get("q", "").strip()[:200]
    articles = selectors.article_search(user=request.user, query=query, limit=10, prefix_last=True) if query else []
    return render(request, "kb/_article_picker_results.html", {
        "articles": articles, "query": query, "target": request.GET.get("target", "")[:100],
        "site_url": request.build_absolute_uri("/").rstrip("/"),
    })


@require_POST
def kb_deflection_abandon(request):
    """Sent by the request form with ``navigator.sendBeacon`` when the page is left without submitting."""
    deflections_abandon(session_key=request.session.session_key or "")
    return HttpResponse(status=204)
