"""Knowledge-base rows built through the services (so the HTML and search index exist as in production)."""

from atende.core.actor import Actor
from atende.kb.models import KbCategory, KbSection
from atende.kb.services import article_create

_counter = {"n": 0}


def make_section(*, category_name: str = "Account", section_name: str = "Logging in") -> KbSection:
    _counter["n"] += 1
    n = _counter["n"]
    category = KbCategory.objects.create(name=f"{category_name} {n}", slug=f"{category_name.lower()}-{n}")
    return KbSection.objects.create(category=category, name=section_name)


def make_article(*, section: KbSection, actor: Actor | None = None, title: str = "Reset your password",
                 body: str = "Open **Settings** and choose *Reset password*.", status: str = "published",
                 visibility: str = "public", language: str = "en", **kwargs):
    actor = actor or Actor.system()
    return article_create(actor=actor, section=section, title=title, body_markdown=body, status=status,
                          visibility=visibility, language=language, **kwargs)
