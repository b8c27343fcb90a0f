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
