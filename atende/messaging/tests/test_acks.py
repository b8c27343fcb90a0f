"""A customer who opens a conversation from a messaging app is acknowledged there, through the outbound engine,
with the ticket's number and the expected reply time of the SLA policy that applies."""

import pytest

from atende.core.outbox.dispatch import PAYLOAD_FIELDS, payload_of
from atende.messaging.subscribers import messaging_on_events
from atende.messaging.tests.conftest import fixture
from atende.messaging.tests.test_webhooks import post_telegram, post_whatsapp
from atende.outbound.models import Delivery
from atende.sla.models import SlaPolicy
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def test_a_new_conversation_is_acknowledged_with_the_expected_reply_time(client, connectors, django_capture_on_commit_callbacks):
    SlaPolicy.objects.create(name="Default", first_reply_minutes=240)
    with django_capture_on_commit_callbacks(execute=True):
        post_telegram(client, fixture("telegram_text.json"))
    ticket = Ticket.objects.get()
    assert ticket.sla_policy_id is not None
    [ack] = connectors.sent("/sendMessage")
    assert ack["json"] == {"chat_id": "1111111", "text": f"We received your message: ticket #{ticket.number}. "
                                                         "We usually answer within 4 business hours."}
    delivery = Delivery.objects.get(transport="messaging", kind="acknowledgement")
    assert (delivery.status, delivery.ticket_id) == ("sent", ticket.pk)


def test_without_a_policy_the_ack_says_as_soon_as_possible_and_later_messages_get_none(client, connectors,
                                                                                     django_capture_on_commit_callbacks):
    second = fixture("whatsapp_text.json")
    second["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.second"
    with django_capture_on_commit_callbacks(execute=True):
        post_whatsapp(client, fixture("whatsapp_text.json"))
    with django_capture_on_commit_callbacks(execute=True):
        post_whatsapp(client, second)
    ticket = Ticket.objects.get()
    assert ticket.messages.count() == 2
    [ack] = connectors.sent("/messages")
    assert ack["json"]["text"]["body"] == (f"We received your message: ticket #{ticket.number}. "
                                           "We will answer as soon as possible.")


def test_acknowledgements_can_be_turned_off(client, connectors, settings, django_capture_on_commit_callbacks):
    settings.MESSAGING_SEND_ACKNOWLEDGEMENTS = False
    with django_capture_on_commit_callbacks(execute=True):
        post_telegram(client, fixture("telegram_text.json"))
    assert connectors.sent("/sendMessage") == []
    assert not Delivery.objects.filter(transport="messaging").exists()


def test_a_batch_of_other_channels_costs_the_subscriber_one_query(django_assert_num_queries):
    """Most tickets do not come from a messaging app: the subscriber screens a whole batch with one statement."""
    for size in (2, 20):
        tickets = [make_ticket(subject=f"Email {i}") for i in range(size)]
        batch = [payload_of(row) for row in TicketEvent.objects.filter(ticket__in=tickets).order_by("id")
                 .values(*PAYLOAD_FIELDS)]
        assert len(batch) >= size
        with django_assert_num_queries(1):
            messaging_on_events(batch)
    assert not Delivery.objects.filter(transport="messaging").exists()
