"""Creating tickets on a customer's behalf and logging phone calls from the console."""

from __future__ import annotations

import pytest
from django.urls import reverse

from atende.accounts.models import User
from atende.accounts.tests.factories import OrganizationDomainFactory
from atende.tickets.choices import TicketEventType
from atende.tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def new_ticket_data(**extra):
    data = {"requester_email": "Ana.Souza@Acme.example", "requester_name": "Ana Souza", "subject": "VPN drops",
            "body": "The VPN disconnects every hour.", "channel": "phone", "type": "incident", "urgency": "high",
            "impact": "medium", "priority": "", "tags": "vpn, network"}
    data.update(extra)
    return data


def test_new_ticket_for_a_new_contact_creates_the_customer_in_their_organisation(client, agent, team):
    domain = OrganizationDomainFactory(domain="acme.example")
    client.force_login(agent)
    response = client.post(reverse("console:ticket_new"), new_ticket_data(team=team.pk, assignee=agent.pk))
    ticket = Ticket.objects.get(subject="VPN drops")
    assert response.status_code == 302 and response["Location"] == reverse("console:ticket", args=[ticket.number])
    customer = User.objects.get(email="ana.souza@acme.example")
    assert (customer.role, customer.name, customer.organization) == ("customer", "Ana Souza", domain.organization)
    assert (ticket.requester, ticket.organization, ticket.channel, ticket.type) == (
        customer, domain.organization, "phone", "incident")
    assert (ticket.team, ticket.assignee, ticket.priority) == (team, agent, "high")  # high × medium by the matrix
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["network", "vpn"]
    first = ticket.messages.get()
    assert (first.author, first.author_kind) == (customer, "customer")  # the customer's request, written down
    created = TicketEvent.objects.get(ticket=ticket, type=TicketEventType.TICKET_CREATED)
    assert created.actor_user == agent and created.actor_kind == "agent"


def test_new_ticket_for_an_existing_contact_as_an_outbound_message(client, agent, customer):
    client.force_login(agent)
    client.post(reverse("console:ticket_new"), new_ticket_data(
        requester_email=customer.email.upper(), requester_name="Ignored", first_message_by_agent="on"))
    ticket = Ticket.objects.get(subject="VPN drops")
    assert ticket.requester == customer
    customer.refresh_from_db()
    assert customer.name != "Ignored"
    assert ticket.messages.get().author == agent
    assert User.objects.filter(email__iexact=customer.email).count() == 1


def test_new_ticket_errors_are_shown_and_nothing_is_created(client, agent):
    client.force_login(agent)
    response = client.post(reverse("console:ticket_new"), new_ticket_data(subject="", requester_email="not-an-email"))
    assert response.status_code == 422
    html = response.content.decode()
    assert "This field is required." in html and "Enter a valid email address." in html
    assert not Ticket.objects.exists()
    assert not User.objects.filter(email__icontains="not-an-email").exists()


@pytest.mark.parametrize("who, status", [("customer", 404), ("collaborator", 403), ("agent", 200)])
def test_only_agents_create_tickets_or_log_calls(client, customer, collaborator, agent, who, status):
    client.force_login({"customer": customer, "collaborator": collaborator, "agent": agent}[who])
    assert client.get(reverse("console:ticket_new")).status_code == status
    assert client.get(reverse("console:phone_call")).status_code == status


def test_phone_call_opens_a_phone_ticket_with_the_call_details(client, agent, customer):
    client.force_login(agent)
    response = client.post(reverse("console:phone_call"), {
        "requester_email": customer.email, "direction": "inbound", "duration_minutes": 4, "duration_seconds": 30,
        "subject": "", "notes": "Customer cannot print invoices.", "type": "question"})
    ticket = Ticket.objects.get(channel="phone")
    assert response["Location"] == reverse("console:ticket", args=[ticket.number])
    assert ticket.requester == customer and ticket.subject == f"Phone call from {customer.display_name}"
    call = TicketEvent.objects.get(ticket=ticket, type=TicketEventType.PHONE_CALL_LOGGED).data
    assert (call["duration_seconds"], call["direction"], call["caller_id"]) == (270, "inbound", customer.pk)
    message = ticket.messages.get()
    assert message.metadata["phone_call"]["duration_seconds"] == 270
    page = client.get(response["Location"]).content.decode()
    assert "Phone call (inbound, 270 s)" in page and "Phone call with" in page


def test_phone_call_on_an_existing_ticket_adds_a_note(client, agent, team_ticket):
    client.force_login(agent)
    form = client.get(reverse("console:phone_call") + f"?ticket={team_ticket.number}").content.decode()
    assert f'value="{team_ticket.requester.email}"' in form
    client.post(reverse("console:phone_call"), {
        "ticket_number": team_ticket.number, "requester_email": team_ticket.requester.email, "direction": "outbound",
        "duration_minutes": 1, "notes": "Called back, printer fixed.", "type": "question"})
    note = team_ticket.messages.get(kind="note")
    assert note.body_text == "Called back, printer fixed."
    assert note.metadata["phone_call"]["direction"] == "outbound"
    assert Ticket.objects.count() == 1
    assert TicketEvent.objects.filter(ticket=team_ticket, type=TicketEventType.PHONE_CALL_LOGGED).count() == 1


def test_phone_call_on_an_unknown_ticket_is_a_field_error(client, agent, customer):
    client.force_login(agent)
    response = client.post(reverse("console:phone_call"), {
        "ticket_number": 9999, "requester_email": customer.email, "direction": "inbound", "duration_minutes": 0,
        "notes": "?", "type": "question"})
    assert response.status_code == 422
    assert "Ticket #9999 was not found." in response.content.decode()
