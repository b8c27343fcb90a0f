"""Customer and organisation profiles: contact data, notes, complete ticket history, interactions."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from atende.accounts.tests.factories import AgentFactory, CustomerFactory, TeamFactory
from atende.console.selectors import customer_interactions
from atende.console.views import people
from atende.core.actor import Actor
from atende.tickets.services import message_add_reply, phone_call_log
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def numbers_in(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td><a href="/console/tickets/(\d+)/">#', html)]


def test_customer_profile_shows_contact_data_and_history_newest_first(client, agent, customer, team):
    customer.phone = "+55 11 5555-0101"
    customer.custom_fields = {"plan": "pro"}
    customer.save()
    tickets = [make_ticket(requester=customer, subject=f"Issue {i}") for i in range(3)]
    make_ticket(subject="Someone else's")
    client.force_login(agent)
    html = client.get(reverse("console:customer", args=[customer.pk])).content.decode()
    assert customer.email in html and "+55 11 5555-0101" in html and "plan" in html and "pro" in html
    assert customer.organization.name in html
    assert numbers_in(html) == [t.number for t in reversed(tickets)]
    assert "3 tickets, 3 unsolved" in html


def test_history_is_keyset_paginated(client, agent, customer, monkeypatch):
    monkeypatch.setattr(people, "PAGE_SIZE", 2)
    tickets = [make_ticket(requester=customer, subject=f"Issue {i}") for i in range(5)]
    expected = [t.number for t in reversed(tickets)]
    client.force_login(agent)
    page_url = reverse("console:customer", args=[customer.pk])
    html = client.get(page_url).content.decode()
    seen = numbers_in(html)
    while (match := re.search(r'hx-get="([^"]+\?cursor=[^"]+)"', html)):
        html = client.get(match.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true").content.decode()
        assert "<html" not in html  # htmx gets only the rows
        seen += numbers_in(html)
    assert seen == expected


def test_a_forged_cursor_is_404(client, agent, customer):
    client.force_login(agent)
    assert client.get(reverse("console:customer", args=[customer.pk]) + "?cursor=forged").status_code == 404


def test_interactions_list_replies_and_calls(client, agent, customer):
    ticket = make_ticket(requester=customer, subject="Printer")
    message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Still broken, sorry")
    phone_call_log(actor=Actor.for_user(agent), caller=customer, notes="Walked through the reset",
                   duration_seconds=120)
    client.force_login(agent)
    html = client.get(reverse("console:customer", args=[customer.pk])).content.decode()
    interactions = html.split('id="interactions-title"')[1]
    assert interactions.index("Walked through the reset") < interactions.index("Still broken, sorry")
    assert "Phone call" in interactions


def test_interactions_merge_messages_and_calls_anywhere_newest_first(agent, customer, team):
    own = make_ticket(requester=customer, subject="Mine", body="First words")
    someone_elses = make_ticket(subject="Colleague's ticket", team=team, actor=Actor.for_user(agent))
    phone_call_log(actor=Actor.for_user(agent), caller=customer, ticket=someone_elses, notes="Called about it")
    message_add_reply(ticket=own, actor=Actor.for_user(customer), body_text="A follow-up")
    restricted = AgentFactory(restrict_to_teams=True)
    team.members.add(restricted)

    everything = customer_interactions(user=agent, customer=customer)
    assert [m.body_text for m in everything] == ["A follow-up", "Called about it", "First words"]
    assert [m.body_text for m in customer_interactions(user=agent, customer=customer, limit=2)] == [
        "A follow-up", "Called about it"]
    # the restricted agent sees only the call, logged on their team's ticket
    assert [m.body_text for m in customer_interactions(user=restricted, customer=customer)] == ["Called about it"]


def test_restricted_agents_see_only_their_teams_tickets_in_a_history(client, customer, team):
    restricted = AgentFactory(restrict_to_teams=True)
    team.members.add(restricted)
    mine = make_ticket(requester=customer, actor=Actor.for_user(restricted), team=team, subject="In my team")
    make_ticket(requester=customer, team=TeamFactory(), actor=Actor.system(), subject="Elsewhere")
    client.force_login(restricted)
    html = client.get(reverse("console:customer", args=[customer.pk])).content.decode()
    assert numbers_in(html) == [mine.number]
    assert "Elsewhere" not in html


def test_customers_cannot_open_profiles(client, customer):
    client.force_login(customer)
    assert client.get(reverse("console:customer", args=[customer.pk])).status_code == 404
    assert client.get(reverse("console:organization", args=[customer.organization_id])).status_code == 404


def test_agent_saves_notes_about_a_customer(client, agent, collaborator, customer):
    client.force_login(collaborator)
    assert client.post(reverse("console:customer_notes", args=[customer.pk]), {"notes": "x"}).status_code == 403
    client.force_login(agent)
    response = client.post(reverse("console:customer_notes", args=[customer.pk]), {"notes": "Prefers phone calls."})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.notes == "Prefers phone calls."


def test_organisation_profile_lists_members_tickets_and_domains(client, agent, customer, organization):
    organization.notes = "Key account since 2024."
    organization.save()
    colleague = CustomerFactory(organization=organization, name="Bruno Colega")
    first = make_ticket(requester=customer, subject="Login fails")
    second = make_ticket(requester=colleague, subject="Invoice copy")
    make_ticket(subject="Other org")
    client.force_login(agent)
    html = client.get(reverse("console:organization", args=[organization.pk])).content.decode()
    assert organization.name in html and "Key account since 2024." in html and "Bruno Colega" in html
    assert numbers_in(html) == [second.number, first.number]
    assert "Other org" not in html
    assert "2 members" in html
    assert client.get(reverse("console:organization", args=[99999])).status_code == 404
