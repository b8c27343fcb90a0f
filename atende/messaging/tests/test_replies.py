"""Agents' replies go back on the channel the customer last used on the ticket, through the platform's send API
(the loopback stand-in), with WhatsApp's 24-hour window, templates, receipts, retries and failures."""

import datetime as dt
import json

import pytest
from django.urls import reverse

from atende.core.actor import Actor
from atende.messaging.models import ConversationMessage, WhatsAppTemplate
from atende.messaging.services.outbound import conversation_reply_deliver
from atende.messaging.tests.conftest import fixture
from atende.messaging.tests.test_webhooks import post_telegram, post_whatsapp
from atende.messaging.transports import TransportError
from atende.outbound.models import Delivery
from atende.tickets.models import Ticket
from atende.tickets.services import message_add_reply

pytestmark = pytest.mark.django_db


def failure_reason(ticket) -> str:
    event = ticket.events.get(type="NOTIFICATION_FAILED")
    assert event.data["kind"] == "messaging_reply"
    return event.data["error"]


def reply(ticket, agent, text, capture):
    with capture(execute=True):
        return message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text=text)


def test_agent_reply_goes_back_on_telegram_and_not_by_email(client, connectors, agent,
                                                            django_capture_on_commit_callbacks):
    post_telegram(client, fixture("telegram_text.json"))
    ticket = Ticket.objects.get()
    message = reply(ticket, agent, "It ships tomorrow.", django_capture_on_commit_callbacks)
    sent = connectors.sent("/sendMessage")
    assert [r["json"] for r in sent] == [{"chat_id": "1111111", "text": "It ships tomorrow."}]
    row = ConversationMessage.objects.get(direction="out")
    assert (row.message, row.state, row.platform) == (message, "sent", "telegram")
    assert row.external_id.startswith("1111111:")
    assert not Delivery.objects.filter(transport="mail", kind="agent_reply").exists()


def test_a_delivered_reply_is_never_sent_twice(client, connectors, agent, django_capture_on_commit_callbacks):
    post_telegram(client, fixture("telegram_text.json"))
    message = reply(Ticket.objects.get(), agent, "Once.", django_capture_on_commit_callbacks)
    assert conversation_reply_deliver(message_id=message.pk) is None
    assert len(connectors.sent("/sendMessage")) == 1


def test_customer_who_then_writes_by_email_gets_email(client, connectors, agent, django_capture_on_commit_callbacks):
    from atende.accounts.identities import identity_add

    post_telegram(client, fixture("telegram_text.json"))
    ticket = Ticket.objects.get()
    identity_add(customer=ticket.requester, kind="email", value="tg@example.com", actor=Actor.for_user(agent))
    message_add_reply(ticket=ticket, actor=Actor.for_user(ticket.requester), body_text="(wrote in the portal)")
    reply(ticket, agent, "Answer", django_capture_on_commit_callbacks)
    assert connectors.sent("/sendMessage") == []
    assert [d.payload["to"] for d in Delivery.objects.filter(transport="mail", kind="agent_reply")] == [
        ["tg@example.com"]]


def test_whatsapp_reply_inside_the_window_then_receipts_move_it_forward(client, connectors, agent,
                                                                        django_capture_on_commit_callbacks):
    post_whatsapp(client, fixture("whatsapp_text.json"))
    reply(Ticket.objects.get(), agent, "Yes, in blue.", django_capture_on_commit_callbacks)
    sent = connectors.sent("/106540352242922/messages")
    assert sent[0]["json"] == {"messaging_product": "whatsapp", "recipient_type": "individual",
                               "to": "5511912345678", "type": "text",
                               "text": {"preview_url": False, "body": "Yes, in blue."}}
    assert sent[0]["auth"] == "Bearer EAAG-test-access-token"
    row = ConversationMessage.objects.get(direction="out")
    receipt = fixture("whatsapp_status_read.json")
    receipt["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = row.external_id
    assert post_whatsapp(client, receipt).status_code == 200
    row.refresh_from_db()
    assert row.state == "read"
    receipt["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "delivered"  # late: never moves back
    post_whatsapp(client, receipt)
    row.refresh_from_db()
    assert row.state == "read"


def _age_conversation(hours: int) -> None:
    ConversationMessage.objects.filter(direction="in").update(
        created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours))


def test_outside_the_window_the_console_refuses_free_text_and_offers_templates(client, connectors, agent):
    post_whatsapp(client, fixture("whatsapp_text.json"))
    _age_conversation(25)
    WhatsAppTemplate.objects.create(name="order_update", language="pt_BR", body="Olá! Novidades: {{1}}")
    ticket = Ticket.objects.get()
    client.force_login(agent)
    page = client.get(reverse("console:ticket", args=[ticket.number])).content.decode()
    assert "more than 24 hours ago" in page and "order_update" in page
    refused = client.post(reverse("console:ticket_reply", args=[ticket.number]),
                          {"kind": "reply", "body": "Hello?", "expected_version": ticket.version})
    assert refused.status_code == 422 and "approved template" in refused.content.decode()
    assert ticket.messages.count() == 1 and connectors.sent("/messages") == []


def test_template_reply_outside_the_window_is_sent_as_a_template(client, connectors, agent,
                                                                 django_capture_on_commit_callbacks):
    post_whatsapp(client, fixture("whatsapp_text.json"))
    _age_conversation(30)
    template = WhatsAppTemplate.objects.create(name="order_update", language="pt_BR", body="Olá! Novidades: {{1}}")
    ticket = Ticket.objects.get()
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("messaging:template_reply", args=[ticket.number]),
                    {"template": template.pk, "parameter": "seu pedido saiu"})
    assert ticket.messages.order_by("id").last().body_text == "Olá! Novidades: seu pedido saiu"
    body = connectors.sent("/messages")[0]["json"]
    assert body["type"] == "template" and body["template"] == {
        "name": "order_update", "language": {"code": "pt_BR"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "seu pedido saiu"}]}]}


def test_reply_made_elsewhere_outside_the_window_is_refused_with_a_note(client, connectors, agent,
                                                                        django_capture_on_commit_callbacks):
    post_whatsapp(client, fixture("whatsapp_text.json"))
    _age_conversation(48)
    ticket = Ticket.objects.get()
    reply(ticket, agent, "via the API", django_capture_on_commit_callbacks)
    row = ConversationMessage.objects.get(direction="out")
    assert row.state == "failed" and "24 hours" in row.error
    assert "not delivered on WhatsApp" in failure_reason(ticket)
    assert connectors.sent("/messages") == []


def test_temporary_failure_is_retried_and_a_refusal_is_visible(client, connectors, agent):
    post_telegram(client, fixture("telegram_text.json"))
    ticket = Ticket.objects.get()
    message = message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="Retry me")
    connectors.fail_next = [503]
    with pytest.raises(TransportError):
        conversation_reply_deliver(message_id=message.pk)
    row = ConversationMessage.objects.get(direction="out")
    assert row.state == "queued" and "503" in row.error
    assert conversation_reply_deliver(message_id=message.pk).state == "sent"
    second = message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="Refused")
    connectors.fail_next = [400]
    assert conversation_reply_deliver(message_id=second.pk).state == "failed"
    assert "not delivered on Telegram" in failure_reason(ticket)
    assert json.dumps(connectors.sent("/sendMessage")[-1]["json"]) == json.dumps(
        {"chat_id": "1111111", "text": "Refused"})


def test_without_a_configured_connector_nothing_is_attempted_and_the_ticket_says_why(client, connectors, agent,
                                                                                    settings):
    post_telegram(client, fixture("telegram_text.json"))
    ticket = Ticket.objects.get()
    settings.ATENDE_MESSAGING = {**settings.ATENDE_MESSAGING, "telegram": {"bot_token": "", "webhook_secret": "",
                                                                           "api_base": connectors.base}}
    message = message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="Hello")
    assert conversation_reply_deliver(message_id=message.pk).state == "failed"
    assert "connector is not configured" in failure_reason(ticket)
    assert not ticket.messages.filter(kind="note").exists()
    assert connectors.sent("/sendMessage") == []
