"""Readers' signals: views, "was this helpful?" votes, and deflected requests.

Deflection, precisely: the request form suggests articles; opening one *from a suggestion* starts a
``pending`` Deflection for the session. Submitting a request in that session within ``KB_DEFLECTION_WINDOW``
turns the session's recent deflections into ``submitted``. Leaving the form without submitting (the form page
sends a beacon on ``pagehide``) turns them into ``deflected``; a pending one older than the window with no
submission also counts as deflected (``selectors.deflection_count``), so a lost beacon loses nothing.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from atende.accounts.models import User
from atende.kb.choices import DeflectionOutcome
from atende.kb.models import Article, ArticleVote, Deflection


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
