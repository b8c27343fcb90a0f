"""Gateway mode of the messaging API: one staff integration token posts for any end customer named by a channel
handle; the customer is found by identity (or created), threads and deduplication work as for customer tokens."""

import pytest

from atende.accounts.identities import customer_find_or_create
from atende.accounts.models import User
from atende.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def post(api, **fields):
    return api.post("/messaging/messages", {"thread_id": "line-7", "message_id": "m1", "body": "Oi, preciso de ajuda",
                                            **fields})


def test_agent_token_posts_for_a_new_contact_known_by_handle(api_as, agent):
    api = api_as(agent)
    response = post(api, contact={"channel": "telegram", "handle": "4242", "name": "Joana"})
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get()
    customer = ticket.requester
    assert customer.is_customer and customer.name == "Joana" and customer.email is None
    assert list(customer.identities.values_list("kind", "value")) == [("telegram", "4242")]
    first = ticket.messages.get()
    assert first.author == customer and first.metadata["gateway"]["integration_user_id"] == agent.pk
    again = post(api, contact={"channel": "telegram", "handle": "4242"})
    assert again.status_code == 200 and Message.objects.count() == 1
    reply = post(api, message_id="m2", body="Ainda aguardo", contact={"channel": "telegram", "handle": "4242"})
    assert reply.status_code == 201 and ticket.messages.count() == 2


def test_gateway_finds_an_existing_customer_by_phone(api_as, agent):
    known = customer_find_or_create(kind="phone", value="+5511912345678")
    post(api_as(agent), contact={"channel": "phone", "handle": "(11) 91234-5678"})
    assert Ticket.objects.get().requester == known


def test_threads_of_different_contacts_stay_apart(api_as, agent):
    api = api_as(agent)
    post(api, contact={"channel": "chat", "handle": "visitor-1"})
    post(api, contact={"channel": "chat", "handle": "visitor-2"})
    assert Ticket.objects.count() == 2
    assert set(Ticket.objects.values_list("requester__identities__value", flat=True)) == {"visitor-1", "visitor-2"}


@pytest.mark.parametrize(("contact", "status"), [
    ({"channel": "phone", "handle": "nonsense"}, 422),
    ({"channel": "fax", "handle": "1"}, 422),
    ({"channel": "telegram"}, 422),
])
def test_bad_contacts_are_refused_with_a_reason(api_as, agent, contact, status):
    response = post(api_as(agent), contact=contact)
    assert response.status_code in (400, status) and "error" in response.json()
    assert not Ticket.objects.exists() and not User.objects.filter(role="customer").exists()


def test_staff_token_without_contact_and_customer_token_with_contact_are_refused(api_as, agent, customer,
                                                                                collaborator):
    assert post(api_as(agent)).json()["error"]["code"] == "contact_required"
    assert post(api_as(customer), contact={"channel": "telegram", "handle": "1"}).status_code == 403
    assert post(api_as(collaborator), contact={"channel": "telegram", "handle": "1"}).status_code == 403
    assert not Ticket.objects.exists()


def test_gateway_cannot_post_as_an_agent(api_as, agent, other_agent):
    response = post(api_as(agent), contact={"channel": "email", "handle": other_agent.email})
    assert response.status_code == 403 and not Ticket.objects.exists()
