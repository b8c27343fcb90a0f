"""Who may open which portal URL. "Not yours" is a 404, exactly like "does not exist"."""

import pytest
from django.urls import reverse

from atende.accounts.tests.factories import CustomerFactory, OrganizationFactory
from atende.core.actor import Actor
from atende.tickets.models import Message
from atende.tickets.services import message_add_note
from atende.tickets.tests.factories import make_ticket

VIEWERS = {
    "anonymous": 302,
    "other_customer": 404,
    "customer_of_other_org": 404,
    "org_member_without_sharing": 404,
    "org_member_with_sharing": 200,
    "requester": 200,
    "agent": 200,
    "admin_user": 200,
}


@pytest.fixture
def world(db, agent, admin_user, other_customer):
    shared_org = OrganizationFactory(shares_tickets=True)
    private_org = OrganizationFactory(shares_tickets=False)
    requester = CustomerFactory(organization=shared_org, email_verified=True)
    private_requester = CustomerFactory(organization=private_org, email_verified=True)
    users = {
        "requester": requester,
        "other_customer": other_customer,
        "customer_of_other_org": CustomerFactory(organization=OrganizationFactory(shares_tickets=True),
                                                 email_verified=True),
        "org_member_with_sharing": CustomerFactory(organization=shared_org, email_verified=True),
        "org_member_without_sharing": CustomerFactory(organization=private_org, email_verified=True),
        "agent": agent,
        "admin_user": admin_user,
    }
    shared_ticket = make_ticket(requester=requester, subject="Shared org ticket")
    private_ticket = make_ticket(requester=private_requester, subject="Private org ticket")
    return users, shared_ticket, private_ticket


def _ticket_for(who, shared_ticket, private_ticket):
    # The "without sharing" member looks at a colleague's ticket in the non-sharing organisation.
    return private_ticket if who == "org_member_without_sharing" else shared_ticket


@pytest.mark.parametrize("who,expected", VIEWERS.items())
def test_ticket_pages(client, world, who, expected):
    users, shared_ticket, private_ticket = world
    ticket = _ticket_for(who, shared_ticket, private_ticket)
    if who != "anonymous":
        client.force_login(users[who])
    for name in ("portal:ticket", "portal:request_submitted"):
        response = client.get(reverse(name, args=[ticket.number]))
        assert response.status_code == expected, name
        if expected == 200:
            assert ticket.subject in response.content.decode()
    reply = client.post(reverse("portal:ticket_reply", args=[ticket.number]), {"body": "Hello?"})
    resolution = client.post(reverse("portal:ticket_resolution", args=[ticket.number]), {"action": "confirm"})
    if expected == 404 or expected == 302:
        assert reply.status_code == expected and resolution.status_code == expected
        assert not Message.objects.filter(body_text="Hello?").exists()
    else:
        assert reply.status_code == 302 and resolution.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "new"  # nobody may close a ticket that is not solved, and only its requester


@pytest.mark.parametrize("who", ["anonymous", "requester", "org_member_with_sharing", "agent", "admin_user"])
def test_list_and_new_request_pages(client, world, who):
    users, shared_ticket, private_ticket = world
    if who != "anonymous":
        client.force_login(users[who])
    for name in ("portal:tickets", "portal:request_new"):
        response = client.get(reverse(name))
        if who == "anonymous":
            assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
        else:
            assert response.status_code == 200
    assert client.get(reverse("portal:home")).status_code == 200


def test_missing_ticket_number_is_404(client, customer):
    client.force_login(customer)
    assert client.get(reverse("portal:ticket", args=[999999])).status_code == 404


def test_organisation_tab_only_when_sharing(client, world):
    users, shared_ticket, private_ticket = world
    member = users["org_member_with_sharing"]
    client.force_login(member)
    mine = client.get(reverse("portal:tickets")).content.decode()
    assert "Shared org ticket" not in mine and "My organisation" in mine
    org = client.get(reverse("portal:tickets"), {"scope": "organization"}).content.decode()
    assert "Shared org ticket" in org and "Private org ticket" not in org
    client.force_login(users["org_member_without_sharing"])
    page = client.get(reverse("portal:tickets"), {"scope": "organization"}).content.decode()
    assert "Private org ticket" not in page and "My organisation" not in page


def test_agents_see_only_the_public_thread_in_the_portal(client, world, agent):
    users, shared_ticket, _ = world
    message_add_note(ticket=shared_ticket, actor=Actor.for_user(agent), body_text="Internal: VIP, be careful")
    client.force_login(agent)
    page = client.get(reverse("portal:ticket", args=[shared_ticket.number])).content.decode()
    assert "Internal: VIP" not in page
    client.force_login(users["requester"])
    page = client.get(reverse("portal:ticket", args=[shared_ticket.number])).content.decode()
    assert "Internal: VIP" not in page and "It is on fire." in page


@pytest.mark.parametrize("url_name", ["portal:branding"])
@pytest.mark.parametrize("who,expected", [("anonymous", 302), ("requester", 404), ("agent", 404),
                                          ("admin_user", 200)])
def test_branding_page_is_for_admins(client, world, url_name, who, expected):
    users, *_ = world
    if who != "anonymous":
        client.force_login(users[who])
    assert client.get(reverse(url_name)).status_code == expected
