"""The search page: ranked, highlighted results with qualifiers; ``#123`` jumps to the ticket."""

from django.urls import reverse

from atende.accounts.tests.factories import AgentFactory, TeamFactory
from atende.core.actor import Actor
from atende.tickets.search import reindex_tickets
from atende.tickets.tests.factories import make_ticket

URL = reverse("console:search")


def test_search_shows_ranked_highlighted_results(client, agent, team):
    actor = Actor.for_user(agent)
    best = make_ticket(actor=actor, team=team, subject="Invoice missing", body="Where is my invoice?")
    other = make_ticket(actor=actor, team=team, subject="Question", body="Also the invoice total looks odd")
    reindex_tickets([best.pk, other.pk])
    client.force_login(agent)
    response = client.get(URL, {"q": "invoice"})
    html = response.content.decode()
    assert [h.ticket.number for h in response.context["results"].items] == [best.number, other.number]
    assert "<mark>Invoice</mark> missing" in html
    assert reverse("console:ticket", args=[best.number]) in html


def test_hash_number_jumps_to_the_ticket_when_visible(client, agent, team):
    ticket = make_ticket(actor=Actor.for_user(agent), team=team)
    client.force_login(agent)
    response = client.get(URL, {"q": f"#{ticket.number}"})
    assert response.status_code == 302 and response["Location"] == reverse("console:ticket", args=[ticket.number])
    response = client.get(URL, {"q": "#99999"})
    assert response.status_code == 200 and "There is no ticket #99999" in response.content.decode()


def test_restricted_agent_neither_finds_nor_jumps_to_other_teams_tickets(client, team):
    other = make_ticket(actor=Actor.for_user(AgentFactory()), team=TeamFactory(), subject="Secret platypus")
    reindex_tickets([other.pk])
    restricted = AgentFactory(restrict_to_teams=True)
    team.members.add(restricted)
    client.force_login(restricted)
    assert client.get(URL, {"q": f"#{other.number}"}).status_code == 200
    response = client.get(URL, {"q": "platypus"})
    assert response.context["results"].items == []


def test_customers_get_404(client, customer):
    client.force_login(customer)
    assert client.get(URL, {"q": "anything"}).status_code == 404


def test_bad_qualifier_is_explained(client, agent):
    client.force_login(agent)
    response = client.get(URL, {"q": "status:sleeping"})
    assert response.status_code == 200 and "Unknown status" in response.content.decode()


def test_qualifier_only_search_lists_and_offers_to_save_a_view(client, agent, team):
    ticket = make_ticket(actor=Actor.for_user(agent), team=team, tags=["vip"])
    client.force_login(agent)
    response = client.get(URL, {"q": "tag:vip"})
    html = response.content.decode()
    assert [h.ticket.number for h in response.context["results"].items] == [ticket.number]
    assert reverse("console:saved_view_new") + "?q=tag%3Avip" in html
