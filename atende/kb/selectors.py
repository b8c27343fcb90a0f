"""Every read of the knowledge base, with its visibility rules.

- Anyone (logged in or not): published, public articles.
- Staff (agents, admins, collaborators): published internal articles too.
- Agents and admins (the writers): drafts as well, in the management pages and previews.
Hidden and missing raise the same NotFound.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from atende.core.exceptions import NotFound
from atende.kb import search
from atende.kb.choices import ArticleStatus, ArticleVisibility, DeflectionOutcome
from atende.kb.models import Article, ArticleAttachment, Deflection, KbCategory, KbSection
from atende.kb.services import deflection_window


def _is_staff(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff_member)


def can_write_articles(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_agent)


def article_visibility_filter(user, *, include_drafts: bool = False) -> Q:
    visible = Q(status=ArticleStatus.PUBLISHED)
    if include_drafts and can_write_articles(user):
        visible = Q()
    if not _is_staff(user):
        visible &= Q(visibility=ArticleVisibility.PUBLIC)
    return visible


def article_list_for_user(*, user, include_drafts: bool = False) -> QuerySet[Article]:
    return (Article.objects.filter(article_visibility_filter(user, include_drafts=include_drafts))
            .select_related("section", "section__category"))


def current_language() -> str:
    return "pt-br" if (get_language() or "").lower().startswith("pt") else "en"


def prefer_language(articles: list[Article], language: str | None = None) -> list[Article]:
    """One article per translation group: the one in ``language`` when it exists, else the first seen."""
    language = language or current_language()
    chosen: dict = {}
    for article in articles:
        current = chosen.get(article.translation_group)
        if current is None or (article.language == language and current.language != language):
            chosen[article.translation_group] = article
    keep = {a.pk for a in chosen.values()}
    return [a for a in articles if a.pk in keep]


def access_article(*, user, slug: str, include_drafts: bool = False) -> Article:
    article = article_list_for_user(user=user, include_drafts=include_drafts).filter(slug=slug).first()
    if article is None:
        raise NotFound("Article not found.")
    return article


def access_article_for_edit(*, user, article_id: int) -> Article:
    if not can_write_articles(user):
        raise NotFound("Article not found.")
    article = Article.objects.select_related("section", "section__category").filter(pk=article_id).first()
    if article is None:
        raise NotFound("Article not found.")
    return article


def access_category(*, slug: str) -> KbCategory:
    category = KbCategory.objects.filter(slug=slug).first()
    if category is None:
        raise NotFound("Category not found.")
    return category


def category_list_for_user(*, user) -> list[KbCategory]:
    """Categories with at least one article the user may read, each with its ``article_count``."""
    visible = article_visibility_filter(user)
    visible_in_section = Q(sections__articles__in=Article.objects.filter(visible))
    return list(KbCategory.objects.annotate(article_count=Count("sections__articles", filter=visible_in_section,
                                                                distinct=True))
                .filter(article_count__gt=0).order_by("position", "name"))


def sections_with_articles(*, user, category: KbCategory) -> list[tuple[KbSection, list[Article]]]:
    articles = prefer_language(list(article_list_for_user(user=user).filter(section__category=category)
                                    .order_by("section__position", "section_id", "title")))
    grouped: dict[int, list[Article]] = {}
    for article in articles:
        grouped.setdefault(article.section_id, []).append(article)
    return [(s, grouped[s.pk]) for s in category.sections.order_by("position", "name") if s.pk in grouped]


def article_search(*, user, query: str, limit: int = 20, mode: str = "all", prefix_last: bool = False,
                   include_drafts: bool = False, language: str | None = None) -> list[Article]:
    """Articles matching ``query`` that ``user`` may read, best first. ``mode="all"`` falls back to "any"."""
    ids = search.ranked_ids(query, mode=mode, prefix_last=prefix_last, limit=limit * 4)
    if not ids and mode == "all":
        ids = search.ranked_ids(query, mode="any", prefix_last=prefix_last, limit=limit * 4)
    if not ids:
        return []
    qs = article_list_for_user(user=user, include_drafts=include_drafts).filter(pk__in=ids)
    if language:
        qs = qs.filter(language=language)
    by_id = {a.pk: a for a in qs}
    ranked = [by_id[i] for i in ids if i in by_id]
    return prefer_language(ranked)[:limit]


def article_suggestions(*, user, text: str, limit: int = 5) -> list[Article]:
    """For the request form: matches for what the customer is typing (any word; the last one a prefix)."""
    return article_search(user=user, query=text, limit=limit, mode="any", prefix_last=True)


def article_translations(*, user, article: Article) -> list[Article]:
    return list(article_list_for_user(user=user).filter(translation_group=article.translation_group)
                .exclude(pk=article.pk).order_by("language"))


def article_translations_for_edit(*, user, article: Article) -> QuerySet[Article]:
    """Every other translation of the article, drafts included, for its writers."""
    if not can_write_articles(user):
        return Article.objects.none()
    return Article.objects.filter(translation_group=article.translation_group).exclude(pk=article.pk)


def has_sections() -> bool:
    return KbSection.objects.exists()


def category_list_with_sections() -> QuerySet[KbCategory]:
    """Every category and its sections (the structure page)."""
    return KbCategory.objects.prefetch_related("sections")


def article_related(*, user, article: Article, limit: int = 5) -> list[Article]:
    """Chosen related articles first, then others from the same section."""
    visible = article_list_for_user(user=user)
    chosen = list(visible.filter(pk__in=article.related.values("pk")).exclude(pk=article.pk))
    if len(chosen) < limit:
        same_section = (visible.filter(section_id=article.section_id, language=article.language)
                        .exclude(pk=article.pk).exclude(pk__in=[a.pk for a in chosen])
                        .exclude(translation_group=article.translation_group)
                        .order_by("-helpful_count", "-view_count", "title")[: limit - len(chosen)])
        chosen += list(same_section)
    return chosen[:limit]


def popular_articles(*, user, limit: int = 6) -> list[Article]:
    articles = list(article_list_for_user(user=user).order_by("-view_count", "-helpful_count", "title")[: limit * 3])
    return prefer_language(articles)[:limit]


def access_article_attachment(*, user, attachment_id: int) -> ArticleAttachment:
    """An attachment is readable when its article is (writers also see drafts' attachments)."""
    attachment = ArticleAttachment.objects.select_related("article").filter(pk=attachment_id).first()
    if attachment is None or not article_list_for_user(user=user, include_drafts=True).filter(
            pk=attachment.article_id).exists():
        raise NotFound("Attachment not found.")
    return attachment


def article_list_for_management(*, user, query: str = "", status: str = "", language: str = "") -> QuerySet[Article]:
    if not can_write_articles(user):
        return Article.objects.none()
    qs = Article.objects.select_related("section", "section__category", "updated_by").order_by("-updated_at", "-id")
    if query:
        ids = search.ranked_ids(query, mode="all", prefix_last=True, limit=200)
        qs = qs.filter(Q(pk__in=ids) | Q(title__icontains=query) | Q(slug__icontains=query.strip()))
    if status in ArticleStatus.values:
        qs = qs.filter(status=status)
    if language:
        qs = qs.filter(language=language)
    return qs


def deflection_filter(*, since: datetime.datetime | None = None, until: datetime.datetime | None = None,
                      now: datetime.datetime | None = None) -> Q:
    """Deflected requests: explicit (the form was left) or pending past the window without a submission."""
    now = now or timezone.now()
    condition = Q(outcome=DeflectionOutcome.DEFLECTED) | Q(outcome=DeflectionOutcome.PENDING,
                                                          created_at__lt=now - deflection_window())
    if since:
        condition &= Q(created_at__gte=since)
    if until:
        condition &= Q(created_at__lt=until)
    return condition


def deflection_count(*, since: datetime.datetime | None = None, until: datetime.datetime | None = None) -> int:
    """What reports count as "requests deflected by the knowledge base"."""
    return Deflection.objects.filter(deflection_filter(since=since, until=until)).count()
