"""The bot's brain, behind a small interface so a smarter one can replace it (settings.CHAT_ANSWERER).

An answerer takes the visitor's question and returns an ``Answer``: a short text and the articles that may
solve it. The default answers with the best matching public knowledge-base articles, the same search the
portal's request form uses for its suggestions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from atende.kb.selectors import article_suggestions, prefer_language


@dataclass(frozen=True)
class SuggestedArticle:
    id: int
    title: str
    url: str
    summary: str = ""


@dataclass(frozen=True)
class Answer:
    text: str
    articles: list[SuggestedArticle] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"text": self.text, "articles": [a.__dict__ for a in self.articles]}


class Answerer(Protocol):
    def answer(self, *, question: str, language: str) -> Answer: ...


def article_summaries(*, text: str, language: str, limit: int = 3) -> list[SuggestedArticle]:
    """Public articles matching ``text`` (anonymous visibility: visitors are not signed in)."""
    if len((text or "").strip()) < 3:
        return []
    found = prefer_language(article_suggestions(user=AnonymousUser(), text=text[:1000], limit=limit * 2),
                            language or None)
    return [SuggestedArticle(id=a.pk, title=a.title, url=a.get_absolute_url(),
                             summary=(a.summary or "")[:200]) for a in found[:limit]]


class KnowledgeBaseAnswerer:
    """Answers with the best matching articles; says so plainly when there are none."""

    def answer(self, *, question: str, language: str) -> Answer:
        articles = article_summaries(text=question, language=language, limit=3)
        if articles:
            return Answer(_("These articles may answer your question:"), articles)
        return Answer(_("I could not find an article about this. Let me get you a person."), [])


@cache
def _answerer_class(path: str):
    return import_string(path)


def get_answerer() -> Answerer:
    path = getattr(settings, "CHAT_ANSWERER", "atende.chat.answerer.KnowledgeBaseAnswerer")
    return _answerer_class(path)()
