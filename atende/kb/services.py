"""Every write on the knowledge base: articles, their translations, attachments, categories and sections
(agents only), and readers' signals (views, votes, deflected requests)."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from atende.accounts.models import User
from atende.core.actor import Actor
from atende.core.exceptions import PermissionDenied, ValidationError
from atende.kb.choices import ArticleLanguage, ArticleStatus, ArticleVisibility, DeflectionOutcome
from atende.kb.models import Article, ArticleAttachment, ArticleVote, Deflection, KbCategory, KbSection
from atende.kb.rendering import render_markdown
from atende.kb.search import index_article
from atende.tickets.services.attachments import IncomingFile, validate_file

# Writing articles, their translations, attachments, categories and sections (agents only).

# Paths under /kb/ that a category slug would shadow.
RESERVED_CATEGORY_SLUGS = {"search", "suggest", "picker", "deflections", "attachments", "manage", "vote", "sitemap"}
EDITABLE_FIELDS = {"section", "language", "title", "slug", "summary", "body_markdown", "status", "visibility"}


def _require_writer(actor: Actor) -> None:
    if actor.kind == "system":
        return
    if actor.user is None or not actor.user.is_agent:
        raise PermissionDenied(_("Only agents can write knowledge base articles."))


def _unique_slug(base: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(base)[:180] or "article"
    slug, n = base, 2
    while Article.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check_choices(*, language: str, status: str, visibility: str) -> None:
    errors = {}
    if language not in ArticleLanguage.values:
        errors["language"] = "unknown language"
    if status not in ArticleStatus.values:
        errors["status"] = "unknown status"
    if visibility not in ArticleVisibility.values:
        errors["visibility"] = "unknown visibility"
    if errors:
        raise ValidationError(_("Invalid article: ") + ", ".join(f"{k} ({v})" for k, v in errors.items()),
                              code="invalid_article", details=errors)


def _check_translation_slot(article: Article) -> None:
    taken = (Article.objects.filter(translation_group=article.translation_group, language=article.language)
             .exclude(pk=article.pk).first())
    if taken:
        raise ValidationError(
            _("“%(title)s” is already the %(language)s version of this article.")
            % {"title": taken.title, "language": article.get_language_display()},
            code="translation_exists", details={"language": article.language},
        )


def _save(article: Article, *, update_fields: list[str] | None = None) -> None:
    article.body_html = render_markdown(article.body_markdown)
    if article.status == ArticleStatus.PUBLISHED and article.published_at is None:
        article.published_at = timezone.now()
    try:
        article.full_clean(exclude=["translation_group"])
    except DjangoValidationError as exc:
        details = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        raise ValidationError("; ".join(f"{k}: {' '.join(v)}" for k, v in details.items()),
                              code="invalid_article", details=details)
    try:
        with transaction.atomic():
            if update_fields is None:
                article.save()
            else:
                article.save(update_fields=sorted({*update_fields, "body_html", "published_at", "updated_at"}))
    except IntegrityError:
        raise ValidationError(_("That address (slug) or translation is already taken."), code="article_conflict")
    index_article(article)


@transaction.atomic
def article_create(*, actor: Actor, section: KbSection, title: str, body_markdown: str = "", summary: str = "",
                   language: str = ArticleLanguage.EN, status: str = ArticleStatus.DRAFT,
                   visibility: str = ArticleVisibility.PUBLIC, slug: str = "",
                   translation_of: Article | None = None, related: Iterable[Article] = ()) -> Article:
    """A new article, or a new language version of ``translation_of``."""
    _require_writer(actor)
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError(_("A title is required."), code="title_required", details={"title": "required"})
    _check_choices(language=language, status=status, visibility=visibility)
    article = Article(section=section, title=title, summary=summary.strip(), body_markdown=body_markdown,
                      language=language, status=status, visibility=visibility, author=actor.user,
                      updated_by=actor.user, slug=slugify(slug)[:200] if slug else _unique_slug(title))
    if translation_of is not None:
        article.translation_group = translation_of.translation_group
        _check_translation_slot(article)
    _save(article)
    if related:
        article.related.set([a for a in related if a.pk != article.pk])
    return article


@transaction.atomic
def article_update(*, actor: Actor, article: Article, related: Iterable[Article] | None = None, **fields) -> Article:
    """Change an article's fields (``EDITABLE_FIELDS``); the HTML and the search index follow."""
    _require_writer(actor)
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(f"Unknown article fields: {', '.join(sorted(unknown))}", code="unknown_fields")
    article = Article.objects.select_for_update(no_key=True).get(pk=article.pk)
    if "title" in fields:
        fields["title"] = " ".join((fields["title"] or "").split())
        if not fields["title"]:
            raise ValidationError(_("A title is required."), code="title_required", details={"title": "required"})
    if "slug" in fields:
        fields["slug"] = slugify(fields["slug"])[:200] or _unique_slug(fields.get("title", article.title),
                                                                      exclude_pk=article.pk)
    for name, value in fields.items():
        setattr(article, name, value)
    _check_choices(language=article.language, status=article.status, visibility=article.visibility)
    if "language" in fields:
        _check_translation_slot(article)
    article.updated_by = actor.user
    _save(article, update_fields=[*fields, "updated_by"])
    if related is not None:
        article.related.set([a for a in related if a.pk != article.pk])
    return article


@transaction.atomic
def article_attachment_add(*, actor: Actor, article: Article, incoming: IncomingFile) -> ArticleAttachment:
    """Attach a file (images can then be embedded in the Markdown with the attachment's URL)."""
    _require_writer(actor)
    name, content_type = validate_file(incoming)
    digest = hashlib.sha256(incoming.content).hexdigest()
    attachment = ArticleAttachment(article=article, filename=name, content_type=content_type,
                                   size=len(incoming.content), sha256=digest, uploaded_by=actor.user)
    attachment.file.save(name, ContentFile(incoming.content), save=False)
    attachment.save()
    return attachment


@transaction.atomic
def article_attachment_delete(*, actor: Actor, attachment: ArticleAttachment) -> None:
    _require_writer(actor)
    attachment.delete()  # the stored file may be shared by content; it is left for storage clean-up


@transaction.atomic
def category_create(*, actor: Actor, name: str, name_pt_br: str = "", slug: str = "", description: str = "",
                    description_pt_br: str = "", position: int = 0) -> KbCategory:
    _require_writer(actor)
    category = KbCategory(name=name.strip(), name_pt_br=name_pt_br.strip(), slug=slugify(slug or name)[:120],
                          description=description, description_pt_br=description_pt_br, position=position)
    if category.slug in RESERVED_CATEGORY_SLUGS:
        raise ValidationError(_("This address is reserved; choose another name or slug."), code="slug_reserved")
    if KbCategory.objects.filter(slug=category.slug).exists():
        raise ValidationError(_("A category with this address already exists."), code="category_exists")
    category.full_clean()
    category.save()
    return category


@transaction.atomic
def section_create(*, actor: Actor, category: KbCategory, name: str, name_pt_br: str = "",
                   position: int = 0) -> KbSection:
    _require_writer(actor)
    section = KbSection(category=category, name=name.strip(), name_pt_br=name_pt_br.strip(), position=position)
    if KbSection.objects.filter(category=category, name=section.name).exists():
        raise ValidationError(_("This category already has a section with that name."), code="section_exists")
    section.full_clean()
    section.save()
    return section


# Readers' signals: views, "was this helpful?" votes, and deflected requests.
#
# Deflection, precisely: the request form suggests articles; opening one *from a suggestion* starts a
# ``pending`` Deflection for the session. Submitting a request in that session within ``KB_DEFLECTION_WINDOW``
# turns the session's recent deflections into ``submitted``. Leaving the form without submitting (the form page
# sends a beacon on ``pagehide``) turns them into ``deflected``; a pending one older than the window with no
# submission also counts as deflected (``selectors.deflection_count``), so a lost beacon loses nothing.

def deflection_window() -> datetime.timedelta:
    return datetime.timedelta(seconds=getattr(settings, "KB_DEFLECTION_WINDOW", 30 * 60))


@transaction.atomic
def article_view_record(*, article: Article, session_key: str = "", customer: User | None = None,
                        suggested_query: str | None = None) -> None:
    """Count a read; when the article was opened from a request-form suggestion, start a deflection."""
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)
    if suggested_query is not None and session_key:
        deflection_start(article=article, session_key=session_key, customer=customer, query=suggested_query)


@transaction.atomic
def article_vote(*, article: Article, helpful: bool, user: User | None = None, session_key: str = "") -> ArticleVote:
    """Record or change a vote; the article's counters move with it."""
    user = user if user is not None and user.is_authenticated else None
    if user is None and not session_key:
        raise ValueError("an anonymous vote needs a session")
    # A logged-in vote is keyed by the person; an anonymous one by the session.
    lookup = {"article": article, "user": user} if user else {"article": article, "user": None,
                                                                 "session_key": session_key}
    create_extra = {"session_key": session_key} if user else {}
    now = timezone.now()
    vote = ArticleVote.objects.select_for_update().filter(**lookup).first()
    if vote is None:
        try:
            with transaction.atomic():
                vote = ArticleVote.objects.create(helpful=helpful, created_at=now, updated_at=now,
                                                  **lookup, **create_extra)
        except IntegrityError:  # a double click raced us; count it once
            return ArticleVote.objects.get(**lookup)
        counter = "helpful_count" if helpful else "not_helpful_count"
        Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
        return vote
    if vote.helpful != helpful:
        vote.helpful, vote.updated_at = helpful, now
        vote.save(update_fields=["helpful", "updated_at"])
        up, down = ("helpful_count", "not_helpful_count") if helpful else ("not_helpful_count", "helpful_count")
        Article.objects.filter(pk=article.pk).update(**{up: F(up) + 1, down: F(down) - 1})
    return vote


@transaction.atomic
def deflection_start(*, article: Article, session_key: str, customer: User | None = None,
                     query: str = "") -> Deflection:
    """The customer opened ``article`` from a request-form suggestion (one pending row per session+article)."""
    customer = customer if customer is not None and customer.is_authenticated else None
    deflection, _created = Deflection.objects.get_or_create(
        session_key=session_key, article=article, outcome=DeflectionOutcome.PENDING,
        defaults={"customer": customer, "query": (query or "")[:500]},
    )
    return deflection


@transaction.atomic
def deflections_abandon(*, session_key: str) -> int:
    """The request form was left without submitting: the session's pending suggestions were deflections."""
    if not session_key:
        return 0
    return Deflection.objects.filter(session_key=session_key, outcome=DeflectionOutcome.PENDING).update(
        outcome=DeflectionOutcome.DEFLECTED, resolved_at=timezone.now())


@transaction.atomic
def deflections_mark_submitted(*, session_key: str, now: datetime.datetime | None = None) -> int:
    """A request was submitted: recent suggestion views of the session did not deflect it (even if the form
    page had been left, say by a reload, in between)."""
    if not session_key:
        return 0
    now = now or timezone.now()
    return (Deflection.objects.filter(session_key=session_key, created_at__gte=now - deflection_window())
            .exclude(outcome=DeflectionOutcome.SUBMITTED)
            .update(outcome=DeflectionOutcome.SUBMITTED, resolved_at=now))
