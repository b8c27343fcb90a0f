"""``{% memo "name" var … %}…{% endmemo %}``: a fragment rendered once per process for each language and value of
the listed variables, then reused (the console's links and menus: dozens of ``{% url %}`` and ``{% translate %}``
that are the same on every page for the same role and language).

Everything the fragment shows that may differ must be listed after its name, and those values must take few
values (roles, flags), never a user, ticket or query. With ``DEBUG`` on, fragments are rendered every time (the
templates may be changing).

A value that takes many values (a ticket's number) but is only written into the fragment, never tested in it, is
named after ``fill``: ``{% memo "pickers" flag fill ticket_number=ticket.number %}``. The fragment is rendered once
with a placeholder in that variable, and each page gets the placeholder replaced by its own value, escaped.
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.html import conditional_escape
from django.utils.translation import get_language

register = template.Library()

_FRAGMENTS: dict[tuple, str] = {}


def _placeholder(name: str) -> str:
    # Private-use characters: nothing a template writes contains them, and escaping leaves them as they are.
    return f"\ue000memo-fill:{name}\ue001"


class MemoNode(template.Node):
    def __init__(self, name: str, vary: list, nodelist, fill: dict | None = None):
        self.name, self.vary, self.nodelist, self.fill = name, vary, nodelist, fill or {}

    def render(self, context) -> str:
        if settings.DEBUG:
            return self.nodelist.render(context)
        key = (self.name, get_language(), *(value.resolve(context) for value in self.vary))
        html = _FRAGMENTS.get(key)
        if html is None:
            if self.fill:
                with context.push({name: _placeholder(name) for name in self.fill}):
                    html = self.nodelist.render(context)
            else:
                html = self.nodelist.render(context)
            _FRAGMENTS[key] = html
        for name, value in self.fill.items():
            filled = value.resolve(context)
            html = html.replace(_placeholder(name), conditional_escape("" if filled is None else filled))
        return html


@register.tag
def memo(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% memo %} needs a fragment name")
    vary, fill = bits[2:], {}
    if "fill" in vary:
        at = vary.index("fill")
        vary, filled = vary[:at], vary[at + 1:]
        for bit in filled:
            name, sep, expression = bit.partition("=")
            if not sep or not name.isidentifier():
                raise template.TemplateSyntaxError(f"{{% memo %}} fill expects name=value, not {bit!r}")
            fill[name] = parser.compile_filter(expression)
    nodelist = parser.parse(("endmemo",))
    parser.delete_first_token()
    return MemoNode(bits[1].strip("\"'"), [parser.compile_filter(bit) for bit in vary], nodelist, fill)
