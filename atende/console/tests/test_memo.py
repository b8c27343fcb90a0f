"""The console's links and menus are rendered once per process per role and language (``{% memo %}``): each
role still sees its own menu, each language its own words, and the page's own values are never reused."""

import pytest
from django.urls import reverse

from atende.accounts.tests.factories import AdminFactory, AgentFactory, CollaboratorFactory

pytestmark = pytest.mark.django_db

ADMIN_ONLY = reverse("console:events")


def _page(client, user, path="/console/?view=all_open", language="") -> str:
    if language:
        user.locale = language
        user.save(update_fields=["locale"])
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("order", ["admin first", "agent first"])
def test_each_role_sees_its_own_menu_whoever_came_first(client, settings, order):
    settings.DEBUG = False
    admin, agent, collaborator = AdminFactory(), AgentFactory(), CollaboratorFactory()
    users = [admin, agent, collaborator] if order == "admin first" else [collaborator, agent, admin]
    pages = {user.pk: _page(client, user) for user in users}
    assert f'href="{ADMIN_ONLY}"' in pages[admin.pk]
    assert f'href="{ADMIN_ONLY}"' not in pages[agent.pk]
    assert reverse("console:ticket_new") in pages[agent.pk]
    assert reverse("console:ticket_new") not in pages[collaborator.pk]


def test_each_language_gets_its_own_words_and_the_search_box_its_own_query(client, settings):
    settings.DEBUG = False
    english = _page(client, AdminFactory(), "/console/search/?q=first")
    portuguese = _page(client, AdminFactory(), "/console/search/?q=second", language="pt-br")
    assert ">Settings<" in english and ">Configurações<" in portuguese
    assert 'value="first"' in english and 'value="second"' in portuguese


def _select(page: str, name: str) -> list[tuple[str, str]]:
    """The (value, label) of each option of the list page's bulk-bar select ``name``."""
    import re
    from html import unescape

    body = re.search(rf'<select id="bulk-[a-z]+" name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return [(unescape(v), unescape(label)) for v, label in re.findall(r'<option value="([^"]*)">([^<]*)</option>', body)]


def test_the_bulk_bar_offers_what_its_form_accepts_in_each_language_and_new_agents_and_teams_at_once(client, settings):
    """The bulk bar's fixed lists are rendered once per process and language, its agents and teams on every
    page: each select offers exactly the choices the submitted form validates against, in the reader's language,
    and an agent or team added after a first page shows on the next."""
    from django.utils import translation

    from atende.accounts.choices import Role
    from atende.accounts.services import team_create, user_create
    from atende.console.forms import BulkActionForm

    settings.DEBUG = False
    agent, reader = AgentFactory(name="Ana <Ops>"), AdminFactory()
    _page(client, agent)  # the fixed parts rendered for English first
    # Added through their services, which outdate the process's copy of the agents and teams.
    team_create(name="Night & Weekend", slug="night-weekend")
    user_create(email="bruno@example.com", name="Bruno", role=Role.AGENT)
    for language in ("en", "pt-br"):
        page = _page(client, reader, language=language)
        with translation.override(language):
            form = BulkActionForm(user=reader)
            for name in ("action", "assignee", "status", "priority", "team"):
                assert _select(page, name) == [(str(v), str(label)) for v, label in form.fields[name].choices], name
    assert ("", "—") in _select(page, "status") and ("pending", "Pendente") in _select(page, "status")
    assert any(label == "Night & Weekend" for _v, label in _select(page, "team"))
    assert any(label == "Ana <Ops>" for _v, label in _select(page, "assignee"))
    assert any(label == "Bruno" for _v, label in _select(page, "assignee"))


def test_a_filled_in_value_is_each_pages_own_and_escaped(settings):
    """``fill``: the fragment is rendered once, and each render carries its own value of the filled-in variable."""
    from django.template import engines

    settings.DEBUG = False
    template = engines["django"].from_string(
        '{% load console_memo %}{% memo "fill-test" fill number=ticket.number %}'
        '<input data-n="{{ number }}"> {{ label }}{% endmemo %}')
    first = template.render({"ticket": {"number": 7}, "label": "first"})
    second = template.render({"ticket": {"number": '8"><b>'}, "label": "second"})
    none = template.render({"ticket": {}, "label": "third"})
    assert first == '<input data-n="7"> first'
    assert second == '<input data-n="8&quot;&gt;&lt;b&gt;"> first'  # the rest of the fragment is reused
    assert none == '<input data-n=""> first'


def test_the_reply_boxs_pickers_carry_each_tickets_number(client, settings, customer, team):
    """The canned-reply and article pickers are rendered once and each ticket page's carry its own number."""
    from atende.core.actor import Actor
    from atende.tickets.tests.factories import make_ticket

    settings.DEBUG = False
    agent = AgentFactory()
    pages = {}
    for ticket in (make_ticket(requester=customer, team=team, actor=Actor.for_user(agent)) for _ in range(2)):
        pages[ticket.number] = _page(client, agent, f"/console/tickets/{ticket.number}/")
    for number, page in pages.items():
        assert f'hx-vals=\'{{"ticket": "{number}", "target": "reply_body"}}\'' in page
        assert 'id="kb-picker-q-reply_body"' in page
