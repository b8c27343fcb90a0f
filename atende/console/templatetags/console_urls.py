"""``{% url_id 'console:ticket_panel' ticket.number %}``: what ``{% url %}`` writes for a URL with no argument or
one integer id, from the reversed pattern kept per process (``reversing.py``): ``{% url %}`` walks the resolver on
every use, about a hundred function calls each, some twenty times per ticket page."""

from __future__ import annotations

from django import template

from ..reversing import url_with_id, url_without_args

register = template.Library()


@register.simple_tag
def url_id(name: str, value=None) -> str:
    # Escaped by the tag's node when the template escapes, as ``{% url %}``'s output is.
    return url_without_args(name) if value is None else url_with_id(name, value)
