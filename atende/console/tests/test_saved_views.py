"""Saved views: created, edited and deleted by agents; personal or shared with a team."""

import pytest
from django.urls import reverse

from atende.accounts.tests.factories import AgentFactory, TeamFactory
from atende.console.models import SavedView
from atende.console.selectors import access_saved_view, saved_view_list_for_user
from atende.console.services import saved_view_create, saved_view_delete, saved_view_update
from atende.core.actor import Actor
from atende.core.exceptions import NotFound, PermissionDenied, ValidationError
from atende.tickets.filters import TicketFilters
from atende.tickets.tests.factories import make_ticket


def test_agent_creates_a_view_from_the_form_and_sees_its_tickets(client, agent, team, customer):
    actor = Actor.for_user(agent)
    vip = make_ticket(actor=actor, requester=customer, team=team, tags=["vip"], priority="high", subject="VIP one")
    make_ticket(actor=actor, requester=customer, team=team, subject="Plain one")
    client.force_login(agent)
    response = client.post(reverse("console:saved_view_new"), {
        "name": "  VIP   high ", "share_with": str(team.pk), "status": ["new", "open"], "priority": ["high"],
        "tags": "VIP", "team": ["mine"], "columns": ["number", "subject", "tags"], "sort": "-created_at",
    })
    view = SavedView.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("console:saved_view", args=[view.pk])
    assert view.name == "VIP high" and view.team == team and view.owner == agent
    assert view.filters == {"status": ["new", "open"], "team": ["mine"], "tags": ["vip"], "priority": ["high"]}
    page = client.get(response["Location"])
    assert [t.number for t in page.context["page"].items] == [vip.number]
    assert ">Tags<" in page.content.decode() and "Requester" not in page.content.decode()


def test_form_rejects_bad_input(client, agent):
    client.force_login(agent)
    response = client.post(reverse("console:saved_view_new"), {"name": "", "sort": "-updated_at",
                                                                 "custom_fields": "no equals sign"})
    assert response.status_code == 200 and not SavedView.objects.exists()
    assert "key=value" in response.content.decode()


def test_shared_views_are_visible_to_the_team_only(agent, team):
    teammate = AgentFactory()
    team.members.add(teammate)
    outsider = AgentFactory()
    shared = saved_view_create(user=agent, name="Shared", filters=TicketFilters(), team=team)
    personal = saved_view_create(user=agent, name="Mine", filters=TicketFilters())
    assert set(saved_view_list_for_user(user=agent)) == {shared, personal}
    assert list(saved_view_list_for_user(user=teammate)) == [shared]
    assert list(saved_view_list_for_user(user=outsider)) == []
    with pytest.raises(NotFound):
        access_saved_view(user=outsider, view_id=shared.pk)
    with pytest.raises(NotFound):
        access_saved_view(user=teammate, view_id=personal.pk)


def test_views_can_only_be_shared_with_own_teams(agent):
    with pytest.raises(PermissionDenied):
        saved_view_create(user=agent, name="Elsewhere", filters=TicketFilters(), team=TeamFactory())
    with pytest.raises(ValidationError):
        saved_view_create(user=agent, name="Cols", filters=TicketFilters(), columns=["shoe_size"])


def test_edit_and_delete(client, agent, team):
    view = saved_view_create(user=agent, name="Old", filters=TicketFilters.from_dict({"status": ["open"]}))
    client.force_login(agent)
    form = client.get(reverse("console:saved_view_edit", args=[view.pk]))
    assert 'value="Old"' in form.content.decode()
    response = client.post(reverse("console:saved_view_edit", args=[view.pk]), {
        "name": "New", "status": ["pending"], "columns": ["number", "subject"], "sort": "-updated_at"})
    assert response.status_code == 302
    view.refresh_from_db()
    assert view.name == "New" and view.filters == {"status": ["pending"]}
    response = client.post(reverse("console:saved_view_delete", args=[view.pk]))
    assert response.status_code == 302 and not SavedView.objects.exists()


def test_others_cannot_edit_or_delete_a_personal_view(client, agent, other_agent, customer, admin_user):
    view = saved_view_create(user=agent, name="Private", filters=TicketFilters())
    for user in (other_agent, customer, admin_user):
        client.force_login(user)
        assert client.get(reverse("console:saved_view", args=[view.pk])).status_code == 404
        assert client.post(reverse("console:saved_view_delete", args=[view.pk])).status_code == 404
    with pytest.raises(NotFound):
        saved_view_delete(view=view, user=other_agent)
    assert SavedView.objects.filter(pk=view.pk).exists()


def test_team_members_and_admins_may_edit_a_shared_view(agent, other_agent, team, admin_user):
    view = saved_view_create(user=agent, name="Team", filters=TicketFilters(), team=team)
    saved_view_update(view=view, user=other_agent, name="Team (renamed)", filters=TicketFilters(), team=team,
                      columns=["number"], sort="-created_at")
    view.refresh_from_db()
    assert view.name == "Team (renamed)"
    saved_view_delete(view=view, user=admin_user)
    assert not SavedView.objects.exists()


def test_new_view_prefilled_from_search_qualifiers(client, agent):
    client.force_login(agent)
    response = client.get(reverse("console:saved_view_new"), {"q": "status:pending tag:vip refund"})
    form = response.context["form"]
    assert form.initial["status"] == ["pending"] and form.initial["tags"] == "vip"
