"""Full-text search with English and Portuguese stemming; the same tests run on SQLite (FTS5) and PostgreSQL."""

import pytest
from django.db import connection

from atende.kb.selectors import article_search, article_suggestions
from atende.kb.tests.factories import make_article


@pytest.fixture
def articles(kb_section):
    return {
        "reset": make_article(section=kb_section, title="Resetting forgotten passwords",
                              body="Open the settings page and request a new password."),
        "invoice": make_article(section=kb_section, title="Download invoices", body="Billing invoices as PDF."),
        "senha": make_article(section=kb_section, title="Como alterar as senhas", language="pt-br",
                              body="Acesse as configurações da conta e altere a sua senha."),
        "fatura": make_article(section=kb_section, title="Baixar faturas", language="pt-br",
                               body="As faturas ficam na área de cobrança."),
    }


def _titles(results):
    return [a.title for a in results]


def test_english_stemming(articles):
    assert _titles(article_search(user=None, query="reset password")) == ["Resetting forgotten passwords"]
    assert "Download invoices" in _titles(article_search(user=None, query="invoice"))


def test_portuguese_stemming_and_accents(articles):
    assert _titles(article_search(user=None, query="senha"))[0] == "Como alterar as senhas"
    assert _titles(article_search(user=None, query="alterando configuracoes")) == ["Como alterar as senhas"]
    assert _titles(article_search(user=None, query="fatura")) == ["Baixar faturas"]


def test_title_ranks_above_body(kb_section):
    body_only = make_article(section=kb_section, title="Account settings", body="Mentions invoices once.")
    in_title = make_article(section=kb_section, title="Invoices explained", body="Everything about billing.")
    assert [a.pk for a in article_search(user=None, query="invoices")][:2] == [in_title.pk, body_only.pk]


def test_suggestions_match_any_word_and_a_half_typed_last_word(articles):
    assert "Resetting forgotten passwords" in _titles(article_suggestions(user=None, text="I cannot log in, passw"))
    assert article_suggestions(user=None, text="zzzz qqqq") == []


def test_query_syntax_is_not_injectable(articles):
    """Engine syntax in a query is read as plain words: no error page, no operator applied, nothing dropped."""
    known = {a.title for a in articles.values()}
    for query in ['"', "AND OR NOT", "a & | ! :*", "NEAR(", "'; DROP TABLE kb_article; --"]:
        assert set(_titles(article_search(user=None, query=query))) <= known
        assert article_search(user=None, query=query) == []  # none of these words is in any article
    # "pass*) OR (x": the words "pass", "or" and "x", all required; the OR does not widen it to every article
    assert _titles(article_search(user=None, query="pass*) OR (x")) == []
    assert _titles(article_search(user=None, query="reset password")) == ["Resetting forgotten passwords"]


@pytest.mark.postgres
def test_postgres_uses_the_gin_indexed_vector(articles):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'kb_article_search_gin'")
        assert "gin" in cursor.fetchone()[0].lower()
