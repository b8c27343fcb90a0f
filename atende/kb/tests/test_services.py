import datetime

import pytest
from django.utils import timezone

from atende.core.actor import Actor
from atende.core.exceptions import PermissionDenied, ValidationError
from atende.kb.choices import DeflectionOutcome
from atende.kb.models import Article, ArticleAttachment, ArticleVote, Deflection
from atende.kb.selectors import article_search, deflection_count
from atende.kb.services import (
    article_attachment_add,
    article_create,
    article_update,
    article_view_record,
    article_vote,
    deflection_start,
    deflections_abandon,
    deflections_mark_submitted,
)
from atende.kb.tests.factories import make_article
from atende.tickets.services import IncomingFile

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_article_markdown_is_rendered_and_script_removed(kb_section, agent):
    article = article_create(actor=Actor.for_user(agent), section=kb_section, title="Export  your data",
                             body_markdown="# Steps\n\n**Bold** <script>alert(1)</script>"
                                           "<a href=\"javascript:alert(2)\">x</a> <img src=x onerror=alert(3)>",
                             status="published")
    article.refresh_from_db()
    assert article.title == "Export your data"
    assert article.slug == "export-your-data"
    assert "<h1>Steps</h1>" in article.body_html and "<strong>Bold</strong>" in article.body_html
    for bad in ("<script", "javascript:", "onerror"):
        assert bad not in article.body_html
    assert article.author == agent and article.published_at is not None


def test_customers_and_collaborators_cannot_write(kb_section, customer, collaborator):
    for user in (customer, collaborator):
        with pytest.raises(PermissionDenied):
            article_create(actor=Actor.for_user(user), section=kb_section, title="Nope")
    assert not Article.objects.exists()


def test_translation_shares_group_and_one_per_language(kb_section, public_article, portuguese_article, agent):
    assert portuguese_article.translation_group == public_article.translation_group
    with pytest.raises(ValidationError) as exc:
        article_create(actor=Actor.for_user(agent), section=kb_section, title="Outra", language="pt-br",
                       translation_of=public_article)
    assert exc.value.code == "translation_exists"
    assert Article.objects.filter(translation_group=public_article.translation_group).count() == 2


def test_update_rerenders_and_reindexes(public_article, agent):
    article_update(actor=Actor.for_user(agent), article=public_article, title="Unlock a blocked account",
                   body_markdown="Ask an *administrator* to unlock it.")
    public_article.refresh_from_db()
    assert "<em>administrator</em>" in public_article.body_html
    assert public_article.updated_by == agent
    assert [a.pk for a in article_search(user=agent, query="unlock blocked")] == [public_article.pk]
    assert article_search(user=agent, query="settings", mode="all") == []


def test_duplicate_slug_is_a_clear_error(kb_section, public_article, agent):
    with pytest.raises(ValidationError):
        article_create(actor=Actor.for_user(agent), section=kb_section, title="Other", slug=public_article.slug)


def test_attachment_limits_are_checked_before_storing(public_article, agent, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    actor = Actor.for_user(agent)
    with pytest.raises(ValidationError) as too_big:
        article_attachment_add(actor=actor, article=public_article,
                               incoming=IncomingFile("big.png", b"x" * 101, "image/png"))
    assert too_big.value.code == "attachment_too_large"
    with pytest.raises(ValidationError) as bad_type:
        article_attachment_add(actor=actor, article=public_article,
                               incoming=IncomingFile("run.exe", b"MZ", "application/x-msdownload"))
    assert bad_type.value.code == "attachment_type"
    assert not ArticleAttachment.objects.exists()
    stored = article_attachment_add(actor=actor, article=public_article, incoming=IncomingFile("s.png", PNG))
    assert stored.content_type == "image/png" and stored.size == len(PNG) and stored.file.read() == PNG


def test_votes_are_one_per_person_and_changeable(public_article, customer):
    article_vote(article=public_article, helpful=True, user=customer)
    article_vote(article=public_article, helpful=True, user=customer)
    public_article.refresh_from_db()
    assert (public_article.helpful_count, public_article.not_helpful_count) == (1, 0)
    article_vote(article=public_article, helpful=False, user=customer)
    article_vote(article=public_article, helpful=False, session_key="anon-1")
    public_article.refresh_from_db()
    assert (public_article.helpful_count, public_article.not_helpful_count) == (0, 2)
    assert ArticleVote.objects.count() == 2
    assert public_article.helpful_percent == 0


def test_view_count_and_suggested_view_starts_a_deflection(public_article, customer):
    article_view_record(article=public_article)
    article_view_record(article=public_article, session_key="s1", customer=customer, suggested_query="forgot pw")
    article_view_record(article=public_article, session_key="s1", customer=customer, suggested_query="forgot pw")
    public_article.refresh_from_db()
    assert public_article.view_count == 3
    deflection = Deflection.objects.get()
    assert (deflection.outcome, deflection.customer, deflection.query) == ("pending", customer, "forgot pw")


def test_abandoning_the_form_counts_a_deflection(public_article, customer):
    deflection_start(article=public_article, session_key="s1", customer=customer, query="password")
    assert deflection_count() == 0
    assert deflections_abandon(session_key="s1") == 1
    assert Deflection.objects.get().outcome == DeflectionOutcome.DEFLECTED
    assert deflection_count() == 1


def test_submitting_a_request_means_no_deflection(public_article, customer):
    deflection_start(article=public_article, session_key="s1", customer=customer)
    deflections_abandon(session_key="s1")  # e.g. the form page was reloaded
    deflections_mark_submitted(session_key="s1")
    assert Deflection.objects.get().outcome == DeflectionOutcome.SUBMITTED
    assert deflection_count() == 0


def test_pending_past_the_window_counts_without_a_beacon(public_article, customer, settings):
    settings.KB_DEFLECTION_WINDOW = 60
    deflection_start(article=public_article, session_key="s1", customer=customer)
    assert deflection_count() == 0
    Deflection.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=5))
    assert deflection_count() == 1
    # a submission after the window does not undo an older deflection
    deflections_mark_submitted(session_key="s1")
    assert deflection_count() == 1


def test_draft_and_internal_are_hidden_from_readers(draft_article, internal_article, customer, agent):
    assert article_search(user=customer, query="password") == []
    assert article_search(user=None, query="password") == []
    found = {a.pk for a in article_search(user=agent, query="password")}
    assert internal_article.pk in found and draft_article.pk not in found


def test_make_article_factory_uses_service(kb_section):
    article = make_article(section=kb_section, title="Two words")
    assert article.body_html.startswith("<p>")
