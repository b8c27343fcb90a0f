"""Every write on the knowledge base. Import from here: ``from atende.kb.services import article_create``."""

from atende.kb.services.articles import (
    article_attachment_add,
    article_attachment_delete,
    article_create,
    article_update,
    category_create,
    section_create,
)
from atende.kb.services.feedback import (
    article_view_record,
    article_vote,
    deflection_start,
    deflections_abandon,
    deflections_mark_submitted,
)

__all__ = [
    "article_attachment_add",
    "article_attachment_delete",
    "article_create",
    "article_update",
    "article_view_record",
    "article_vote",
    "category_create",
    "deflection_start",
    "deflections_abandon",
    "deflections_mark_submitted",
    "section_create",
]
