"""The public knowledge base: readable without logging in; internal articles only for staff."""

from django.contrib import messages
from django.contrib.sitemaps.views import sitemap
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.core.exceptions import NotFound
from atende.kb import selectors
from atende.kb.services import article_view_record, article_vote
from atende.kb.sitemaps import SITEMAPS
from atende.kb.views._common import session_key

INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"}


def kb_home(request):
    return render(request, "kb/home.html", {
        "categories": selectors.category_list_for_user(user=request.user),
        "popular": selectors.popular_articles(user=request.user),
    })


def kb_search(request):
    query = request.GET.get("q", "").strip()[:200]
    results = selectors.article_search(user=request.user, query=query) if query else []
    template = "kb/_search_results.html" if request.htmx else "kb/search.html"
    return render(request, template, {"query": query, "results": results})


def kb_category(request, category_slug: str):
    try:
        category = selectors.access_category(slug=category_slug)
    except NotFound:
        raise Http404
    sections = selectors.sections_with_articles(user=request.user, category=category)
    if not sections:
        raise Http404  # a category with nothing the reader may see does not exist for them
    return render(request, "kb/category.html", {"category": category, "sections": sections})


def kb_article(request, category_slug: str, article_slug: str):
    preview = request.GET.get("preview") == "1" and selectors.can_write_articles(request.user)
    try:
        article = selectors.access_article(user=request.user, slug=article_slug, include_drafts=preview)
    except NotFound:
        raise Http404
    if article.section.category.slug != category_slug:
        return redirect(article.get_absolute_url(), permanent=True)
    suggested = request.GET.get("suggested") == "1" and request.user.is_authenticated
    if not preview:
        article_view_record(article=article, session_key=session_key(request) if suggested else "",
                            customer=request.user if suggested else None,
                            suggested_query=request.GET.get("q", "")[:500] if suggested else None)
    return render(request, "kb/article.html", {
        "article": article,
        "category": article.section.category,
        "translations": selectors.article_translations(user=request.user, article=article),
        "related": selectors.article_related(user=request.user, article=article),
        "preview": preview,
        "can_edit": selectors.can_write_articles(request.user),
        "voted": request.session.get("kb_votes", {}).get(str(article.pk)),
    })


@require_POST
def kb_article_vote(request, article_slug: str):
    try:
        article = selectors.access_article(user=request.user, slug=article_slug)
    except NotFound:
        raise Http404
    helpful = request.POST.get("helpful") == "yes"
    article_vote(article=article, helpful=helpful, user=request.user, session_key=session_key(request))
    votes = request.session.get("kb_votes", {})
    votes[str(article.pk)] = "yes" if helpful else "no"
    request.session["kb_votes"] = votes
    if request.htmx:
        return render(request, "kb/_vote.html", {"article": article, "voted": votes[str(article.pk)]})
    messages.success(request, _("Thank you for your feedback."))
    return redirect(article.get_absolute_url())


def kb_attachment(request, attachment_id: int):
    try:
        attachment = selectors.access_article_attachment(user=request.user, attachment_id=attachment_id)
    except NotFound:
        raise Http404
    inline = attachment.content_type in INLINE_TYPES
    response = FileResponse(attachment.file.open("rb"), as_attachment=not inline, filename=attachment.filename,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, max-age=3600" if attachment.article.is_internal else "public, max-age=3600"
    return response


def kb_sitemap(request):
    return sitemap(request, sitemaps=SITEMAPS)
