"""The ticket page's macro menu comes from a per-process copy of the active macros: each agent still sees only
the shared macros and their own, and a macro saved, moved or deleted through its services shows on the next page,
in any process (the services bump ``MACROS`` once they commit)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from atende.automation.models import Macro
from atende.automation.selectors import MACROS, macro_list_for_user, macro_menu_for_user
from atende.automation.services.definitions import macro_delete, macro_move, macro_save
from atende.core import generations
from atende.core.testing.generations import another_process_commits, commit_generation_changes


def menu(client, ticket) -> str:
    html = client.get(reverse("console:ticket", args=[ticket.number])).content.decode()
    start = html.index('id="macro-menu"')
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html[start:html.index("</div>", start)])


@pytest.fixture
def macros(db, agent, other_agent):
    return {
        "shared": Macro.objects.create(name="Shared macro", reply_text="Hello <b>there</b>", position=2),
        "first": Macro.objects.create(name="First macro", reply_text="First", position=1),
        "mine": Macro.objects.create(name="My macro", reply_text="Mine", owner=agent, position=3),
        "theirs": Macro.objects.create(name="Their macro", reply_text="Theirs", owner=other_agent, position=4),
        "inactive": Macro.objects.create(name="Retired macro", reply_text="Old", is_active=False, position=5),
    }


def test_each_agent_sees_what_the_query_gives_them_in_its_order(agent, other_agent, collaborator, macros):
    commit_generation_changes()
    for user in (agent, other_agent, collaborator, agent):  # the last one from the copy
        assert [m.pk for m in macro_menu_for_user(user=user)] == [m.pk for m in macro_list_for_user(user=user)]
    assert "Their macro" not in [m.name for m in macro_menu_for_user(user=agent)]


def test_the_menu_reads_no_macros_once_warm(client, agent, team_ticket, macros, django_assert_num_queries):
    client.force_login(agent)
    commit_generation_changes()
    first = menu(client, team_ticket)
    with django_assert_num_queries(8) as captured:
        assert menu(client, team_ticket) == first
    assert not any('FROM "automation_macro"' in q["sql"] for q in captured.captured_queries)
    assert "Hello &lt;b&gt;there&lt;/b&gt;" in first and "Their macro" not in first  # escaped; others' hidden


@pytest.mark.parametrize("change", ["added", "renamed", "deactivated", "deleted", "made personal", "moved"])
def test_a_change_through_the_services_shows_on_the_next_page(client, agent, other_agent, admin_user, team_ticket,
                                                              macros, change, django_capture_on_commit_callbacks):
    client.force_login(agent)
    commit_generation_changes()
    assert menu(client, team_ticket).index("First macro") < menu(client, team_ticket).index("Shared macro")
    before = generations.token(MACROS)
    shared = macros["shared"]
    with django_capture_on_commit_callbacks(execute=True):
        if change == "added":
            macro_save(user=admin_user, name="Brand new macro", reply_text="New")
        elif change in ("renamed", "deactivated"):
            macro_save(user=admin_user, macro=shared, name="Renamed macro" if change == "renamed" else shared.name,
                       reply_text=shared.reply_text, is_active=change == "renamed")
        elif change == "deleted":
            macro_delete(user=admin_user, macro=shared)
        elif change == "made personal":
            macro_save(user=other_agent, macro=Macro.objects.get(pk=macros["theirs"].pk), name="Their macro",
                       reply_text="Theirs", shared=False)
            macro_save(user=admin_user, macro=shared, name=shared.name, reply_text=shared.reply_text, shared=False)
        else:
            macro_move(macro=shared, direction="up", user=admin_user)
    assert generations.token(MACROS) != before  # what every other process reads
    html = menu(client, team_ticket)
    if change == "added":
        assert "Brand new macro" in html
    elif change == "renamed":
        assert "Renamed macro" in html and "Shared macro" not in html
    elif change == "moved":
        assert html.index("Shared macro") < html.index("First macro")
    else:
        assert "Shared macro" not in html


def test_a_change_committed_in_another_process_shows_on_the_next_page(client, agent, team_ticket, macros):
    client.force_login(agent)
    commit_generation_changes()
    assert "Shared macro" in menu(client, team_ticket)
    Macro.objects.filter(pk=macros["shared"].pk).update(name="Renamed elsewhere")  # written by another process
    assert "Renamed elsewhere" not in menu(client, team_ticket)  # this process's copy stands...
    another_process_commits(MACROS)  # ...until that process's commit replaces the token
    assert "Renamed elsewhere" in menu(client, team_ticket)


# The menu's items as the template wrote them before ``macro_menu_items``.
TEMPLATE_ITEMS = """{% load i18n %}<ul>{% for macro in macros %}
    {% url 'automation:macro_apply' macro.pk ticket.number as apply_url %}<li><form method="post" action="{{ apply_url }}"
              hx-post="{{ apply_url }}" hx-swap="none">{% csrf_token %}
      <button type="submit" class="link" title="{{ macro.reply_text|truncatechars:80 }}">{{ macro.name }}</button>{% if macro.owner_id %} <span class="small muted">({% translate "personal" %})</span>{% endif %}</form></li>
  {% endfor %}</ul>"""


@pytest.mark.parametrize("language", ["en", "pt-br"])
@pytest.mark.parametrize("csrf_token", ["a1B2c3", "NOTPROVIDED", None])
@pytest.mark.parametrize("number", [None, 7, 987654321])
def test_the_python_items_write_what_the_template_wrote(agent, team_ticket, language, csrf_token, number):
    from django.template import Context, Template
    from django.utils import translation

    macros = [Macro(pk=987654321, name="Same id as the stand-in", reply_text="z", owner_id=None),
              Macro(pk=7, name='Say "hi" & <wave>', reply_text="x" * 79 + "<&>" + "y" * 10, owner_id=agent.pk),
              Macro(pk=8, name="Plain", reply_text=""), Macro(pk=9, name="Short", reply_text='a "quoted" <b>')]
    if number is not None:  # a ticket whose number is a macro's id, or the id the menu reverses with
        team_ticket.number = number
    context = {"macros": macros, "ticket": team_ticket}
    if csrf_token is not None:
        context["csrf_token"] = csrf_token
    with translation.override(language):
        old = Template(TEMPLATE_ITEMS).render(Context(context))
        new = Template("{% load automation_tags %}<ul>{% macro_menu_items macros ticket %}</ul>").render(Context(context))
    assert new == old
