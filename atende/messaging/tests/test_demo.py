import pytest

from atende.messaging import demo
from atende.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_demo_has_a_phone_only_customer_with_a_whatsapp_ticket(agent):
    assert demo.load_demo() == {"whatsapp conversations": 1}
    ticket = Ticket.objects.get(channel="messaging")
    customer = ticket.requester
    assert customer.email is None
    assert set(customer.identities.values_list("kind", "value")) == {
        ("phone", "+5511987650001"), ("whatsapp", "+5511987650001")}
    assert ticket.status == "solved" and ticket.messages.count() == 2
    assert demo.load_demo() == {"whatsapp conversations": 0}  # loading twice adds nothing
