"""Knowledge-base articles, read through the knowledge base's own visibility rules."""

from __future__ import annotations

import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from atende.api.listing import page_of
from atende.api.schemas import responses
from atende.kb.selectors import access_article, article_list_for_user, article_search

router = Router(tags=["knowledge base"])


class ArticleSummaryOut(Schema):
    id: int
    slug: str
    title: str
    summary: str
    language: str
    status: str
    visibility: str
    category: str
    section: str
    published_at: datetime.datetime | None
    updated_at: datetime.datetime
    helpful_count: int
    not_helpful_count: int
    url: str


class ArticleOut(ArticleSummaryOut):
    body_markdown: str
    body_html: str


class ArticlePageOut(Schema):
    items: list[ArticleSummaryOut]
    next_cursor: str | None
    has_next: bool


class ArticleQuery(Schema):
    cursor: str | None = None
    size: int = Field(50, ge=1, le=100)
    q: str | None = Field(None, max_length=200, description="Search (ranked; no cursor).")
    language: str | None = Field(None, max_length=10)


def _summary(article) -> dict:
    return {"id": article.pk, "slug": article.slug, "title": article.title, "summary": article.summary,
            "language": article.language, "status": article.status, "visibility": article.visibility,
            "category": article.section.category.name, "section": article.section.name,
            "published_at": article.published_at, "updated_at": article.updated_at,
            "helpful_count": article.helpful_count, "not_helpful_count": article.not_helpful_count,
            "url": f"/kb/{article.slug}/"}


@router.get("/kb/articles", response=responses(ArticlePageOut), summary="List or search articles")
def article_list(request: HttpRequest, query: Query[ArticleQuery]):
    """Published articles the caller may read (internal ones for staff); with ``q``, the best matches."""
    if query.q:
        found = article_search(user=request.user, query=query.q, limit=query.size, language=query.language)
        return {"items": [_summary(a) for a in found], "next_cursor": None, "has_next": False}
    qs = article_list_for_user(user=request.user)
    if query.language:
        qs = qs.filter(language=query.language)
    return page_of(qs, order="id", cursor=query.cursor, size=query.size, serialize=_summary)


@router.get("/kb/articles/{slug}", response=responses(ArticleOut), summary="Read an article")
def article_read(request: HttpRequest, slug: str):
    article = access_article(user=request.user, slug=slug)
    return {**_summary(article), "body_markdown": article.body_markdown, "body_html": article.body_html}
