"""The ticket page's macro menu comes from a per-process copy of the active macros: each agent still sees only
the shared macros and their own, and a macro saved or deleted in any process shows on the next page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from atende.automation.models import Macro
from atende.automation.selectors import MACRO_MENU, macro_list_for_user, macro_menu_for_user
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
        "first": Macro.objects.create(name="First macro", position=1),
        "mine": Macro.objects.create(name="My macro", owner=agent),
        "theirs": Macro.objects.create(name="Their macro", owner=other_agent),
        "inactive": Macro.objects.create(name="Retired macro", is_active=False),
    }


def test_each_agent_sees_what_the_query_gives_them_in_its_order(agent, other_agent, collaborator, macros):
    commit_generation_changes()
    for user in (agent, other_agent, collaborator, agent):  # the last one from the copy
        assert [m.pk for m in macro_menu_for_user(user=user)] == [m.pk for m in macro_list_for_user(user=user)]
    assert "Their macro" not in [m.name for m in macro_menu_for_user(user=agent)]


def test_the_menu_reads_no_macros_once_warm(client, agent, team_ticket, macros, django_assert_max_num_queries):
    client.force_login(agent)
    commit_generation_changes()
    first = menu(client, team_ticket)
    with django_assert_max_num_queries(8) as captured:
        assert menu(client, team_ticket) == first
    assert not any('FROM "automation_macro"' in q["sql"] for q in captured.captured_queries)
    assert "Hello &lt;b&gt;there&lt;/b&gt;" in first and "Their macro" not in first  # escaped; others' hidden


@pytest.mark.parametrize("change", ["added", "renamed", "deactivated", "deleted", "made personal"])
def test_a_committed_change_shows_on_the_next_page(client, agent, other_agent, team_ticket, macros, change,
                                                   django_capture_on_commit_callbacks):
    client.force_login(agent)
    commit_generation_changes()
    menu(client, team_ticket)
    before = generations.token(MACRO_MENU)
    shared = macros["shared"]
    with django_capture_on_commit_callbacks(execute=True):
        if change == "added":
            Macro.objects.create(name="Brand new macro")
        elif change == "renamed":
            shared.name = "Renamed macro"
            shared.save()
        elif change == "deactivated":
            shared.is_active = False
            shared.save()
        elif change == "deleted":
            shared.delete()
        else:
            shared.owner = other_agent
            shared.save()
    assert generations.token(MACRO_MENU) != before
    html = menu(client, team_ticket)
    assert ("Brand new macro" in html) if change == "added" else ("Shared macro" not in html)
    assert change != "renamed" or "Renamed macro" in html


def test_a_change_committed_in_another_process_shows_on_the_next_page(client, agent, team_ticket, macros):
    client.force_login(agent)
    commit_generation_changes()
    assert "Shared macro" in menu(client, team_ticket)
    Macro.objects.filter(pk=macros["shared"].pk).update(name="Renamed elsewhere")  # no signal in this process
    assert "Renamed elsewhere" not in menu(client, team_ticket)
    another_process_commits(MACRO_MENU)
    assert "Renamed elsewhere" in menu(client, team_ticket)
