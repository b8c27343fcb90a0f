"""``{% memo "name" var … %}…{% endmemo %}``: a fragment rendered once per process for each language and value of
the listed variables, then reused (the console's links and menus: dozens of ``{% url %}`` and ``{% translate %}``
that are the same on every page for the same role and language).

Everything the fragment shows that may differ must be listed after its name, and those values must take few
values (roles, flags), never a user, ticket or query. With ``DEBUG`` on, fragments are rendered every time (the
templates may be changing).
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.translation import get_language

register = template.Library()

_FRAGMENTS: dict[tuple, str] = {}


class MemoNode(template.Node):
    def __init__(self, name: str, vary: list, nodelist):
        self.name, self.vary, self.nodelist = name, vary, nodelist

    def render(self, context) -> str:
        if settings.DEBUG:
            return self.nodelist.render(context)
        key = (self.name, get_language(), *(value.resolve(context) for value in self.vary))
        html = _FRAGMENTS.get(key)
        if html is None:
            html = _FRAGMENTS[key] = self.nodelist.render(context)
        return html


@register.tag
def memo(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% memo %} needs a fragment name")
    nodelist = parser.parse(("endmemo",))
    parser.delete_first_token()
    return MemoNode(bits[1].strip("\"'"), [parser.compile_filter(bit) for bit in bits[2:]], nodelist)
