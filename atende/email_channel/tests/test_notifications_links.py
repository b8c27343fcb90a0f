"""The link in a notification mail opens the ticket's page in the recipient's area (console or portal)."""

import pytest
from django.urls import resolve

from atende.accounts.tests.factories import AgentFactory, CustomerFactory
from atende.email_channel.services.notifications import ticket_url
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def test_ticket_links_point_at_each_areas_ticket_page(settings):
    settings.SITE_URL = "https://desk.example"
    customer, agent = CustomerFactory(), AgentFactory()
    tickets = [make_ticket(requester=customer) for _ in range(2)]
    for ticket in tickets:
        for user, area in ((agent, "console"), (customer, "portal")):
            url = ticket_url(ticket, user)
            assert url == f"https://desk.example/{area}/tickets/{ticket.number}/"
            match = resolve(url.removeprefix("https://desk.example"))
            assert (match.view_name, match.kwargs) == (f"{area}:ticket", {"number": ticket.number})
