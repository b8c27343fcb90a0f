"""The macro menu's items, written from parts kept per language and macro, are the HTML the menu wrote before
(``previous_items`` below), in both languages, after a macro changes, and for another ticket."""

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from atende.automation.models import Macro
from atende.automation.selectors import MACROS, macro_menu_for_user
from atende.automation.tests.test_macro_menu import macros  # noqa: F401 (fixture)
from atende.core import generations
from atende.core.testing.generations import commit_generation_changes

MENU = Template('{% load automation_tags %}{% macros_for user as macros %}{% macro_menu_items macros ticket %}')


def previous_items(csrf_token, menu_macros, ticket) -> str:
    token = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', csrf_token) \
        if csrf_token and csrf_token != "NOTPROVIDED" else ""
    personal = format_html(' <span class="small muted">({})</span>', _("personal"))
    rows = []
    for macro in menu_macros:
        url = reverse("automation:macro_apply", args=[macro.pk, ticket.number])
        rows.append((url, url, token, Truncator(macro.reply_text).chars(80), macro.name,
                     personal if macro.owner_id else ""))
    return format_html_join(
        "", '\n    <li><form method="post" action="{}"\n              hx-post="{}" hx-swap="none">{}\n'
        '      <button type="submit" class="link" title="{}">{}</button>{}</form></li>\n  ', rows)


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_the_items_are_the_previous_html(agent, team_ticket, macros, language):  # noqa: F811
    macros["shared"].reply_text = "A long <i>text</i> & more " * 10  # truncated, escaped
    macros["shared"].save()
    commit_generation_changes()
    with translation.override(language):
        for ticket_number, token in ((team_ticket.number, "tok<en>"), (team_ticket.number + 41, "NOTPROVIDED"),
                                     (team_ticket.number, "")):
            team_ticket.number = ticket_number
            values = {"user": agent, "ticket": team_ticket, "csrf_token": token}
            written = MENU.render(Context(values))
            assert written == previous_items(token, macro_menu_for_user(user=agent), team_ticket)
            assert f"/apply/{ticket_number}/" in written and "My macro" in written
        Macro.objects.filter(pk=macros["mine"].pk).update(name="Renamed <macro>", owner=None)
        generations.bump(MACROS)
        commit_generation_changes()
        written = MENU.render(Context({"user": agent, "ticket": team_ticket, "csrf_token": "t"}))
        assert written == previous_items("t", macro_menu_for_user(user=agent), team_ticket)
        assert "Renamed &lt;macro&gt;" in written and "My macro" not in written
