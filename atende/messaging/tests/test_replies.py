"""Agents' replies go back on the channel the customer last used on the ticket, through the outbound engine's
``messaging`` transport and the platform's send API (the loopback stand-in, a real HTTP server), with WhatsApp's
24-hour window, templates, receipts, retries and failures."""

import datetime as dt

import pytest
from django.urls import reverse

from atende.core.actor import Actor
from atende.core.models import SubscriberCursor
from atende.core.outbox.drain import drain_inline
from atende.messaging.models import ConversationMessage, WhatsAppTemplate
from atende.messaging.tests.conftest import fixture
from atende.messaging.tests.test_webhooks import post_telegram, post_whatsapp
from atende.outbound.models import Delivery
from atende.outbound.services import deliveries_drain
from atende.tickets.models import Ticket
from atende.tickets.services import message_add_reply

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_acknowledgements(settings):
    settings.MESSAGING_SEND_ACKNOWLEDGEMENTS = False  # only the replies reach the stand-in (see test_acks.py)


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


def replies_queued() -> list[Delivery]:
    return list(Delivery.objects.filter(transport="messaging", kind="agent_reply").order_by("id"))


def drain_due() -> None:
    """What the minute's drain does once a retry is due."""
    Delivery.objects.filter(status="failed").update(next_attempt_at=dt.datetime.now(dt.UTC))
    deliveries_drain()


def test_one_reply_is_one_delivery_and_one_post(client, connectors, agent, django_capture_on_commit_callbacks):
    post_telegram(client, fixture("telegram_text.json"))
    message = reply(Ticket.objects.get(), agent, "Once.", django_capture_on_commit_callbacks)
    [delivery] = replies_queued()
    assert (delivery.status, delivery.target, delivery.ticket_id) == ("sent", "telegram:1111111", message.ticket_id)
    assert [a.outcome for a in delivery.attempt_log.all()] == ["sent"]
    assert len(connectors.sent("/sendMessage")) == 1
    drain_due()  # nothing left to send
    assert len(connectors.sent("/sendMessage")) == 1


def test_a_batch_handled_twice_sends_once(client, connectors, agent, django_capture_on_commit_callbacks):
    """The dispatcher hands the same events to the subscriber again (its cursor went back, as after a crash
    between the send and the cursor's commit): the key finds the queued delivery, nothing more is posted."""
    post_telegram(client, fixture("telegram_text.json"))
    ticket = Ticket.objects.get()
    message = reply(ticket, agent, "Just once.", django_capture_on_commit_callbacks)
    event = ticket.events.get(type="REPLY_ADDED", data__message_id=message.pk)
    assert SubscriberCursor.objects.filter(subscriber="messaging", position__gte=event.pk).exists()
    SubscriberCursor.objects.filter(subscriber="messaging").update(position=event.pk - 1, gaps=[])
    with django_capture_on_commit_callbacks(execute=True):
        drain_inline()
    assert not SubscriberCursor.objects.filter(subscriber="messaging", position__lt=event.pk).exists()
    assert len(replies_queued()) == 1
    drain_due()
    assert [r["json"]["text"] for r in connectors.sent("/sendMessage")] == ["Just once."]


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
    assert "not delivered on WhatsApp" in failure_reason(ticket) and "24 hours" in failure_reason(ticket)
    [delivery] = replies_queued()
    assert (delivery.status, delivery.attempts) == ("given_up", 1) and "24 hours" in delivery.last_error
    assert [a.outcome for a in delivery.attempt_log.all()] == ["failed"]
    assert connectors.sent("/messages") == []
    client.force_login(agent)
    page = client.get(reverse("console:ticket", args=[ticket.number])).content.decode()
    assert "Notification failed" in page  # the timeline line, as for mail given up on


def test_a_5xx_is_retried_with_backoff_then_delivered(client, connectors, agent,
                                                     django_capture_on_commit_callbacks):
    post_telegram(client, fixture("telegram_text.json"))
    ticket = Ticket.objects.get()
    connectors.fail_next = [500]
    message = reply(ticket, agent, "Retry me", django_capture_on_commit_callbacks)
    [delivery] = replies_queued()
    assert delivery.status == "failed" and delivery.next_attempt_at > dt.datetime.now(dt.UTC)
    row = ConversationMessage.objects.get(direction="out", message=message)
    assert row.state == "queued" and "500" in row.error
    deliveries_drain()  # not due yet: nothing is sent
    assert len(connectors.sent("/sendMessage")) == 1
    drain_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert [(a.number, a.outcome, a.status_code) for a in delivery.attempt_log.all()] == [
        (1, "failed", 500), (2, "sent", 200)]
    row.refresh_from_db()
    assert row.state == "sent" and row.external_id == delivery.external_id
    assert [r["json"]["text"] for r in connectors.sent("/sendMessage")] == ["Retry me", "Retry me"]
    assert not ticket.events.filter(type="NOTIFICATION_FAILED").exists()


def test_a_refusal_gives_up_at_once_and_the_ticket_says_why(client, connectors, agent,
                                                            django_capture_on_commit_callbacks):
    post_telegram(client, fixture("telegram_text.json"))
    ticket = Ticket.objects.get()
    connectors.fail_next = [400]
    reply(ticket, agent, "Refused", django_capture_on_commit_callbacks)
    [delivery] = replies_queued()
    assert (delivery.status, delivery.attempts) == ("given_up", 1)
    assert "not delivered on Telegram" in failure_reason(ticket) and "HTTP 400" in failure_reason(ticket)
    assert ConversationMessage.objects.get(direction="out").state == "failed"
    drain_due()
    assert len(connectors.sent("/sendMessage")) == 1


def test_the_last_failed_attempt_gives_up_visibly(client, connectors, agent, settings,
                                                  django_capture_on_commit_callbacks):
    settings.MESSAGING_OUTBOUND_MAX_ATTEMPTS = 2
    post_telegram(client, fixture("telegram_text.json"))
    ticket = Ticket.objects.get()
    connectors.fail_next = [503, 502]
    reply(ticket, agent, "Down", django_capture_on_commit_callbacks)
    drain_due()
    [delivery] = replies_queued()
    assert (delivery.status, delivery.attempts) == ("given_up", 2)
    event = ticket.events.get(type="NOTIFICATION_FAILED")
    assert event.data["outbound_id"] == delivery.pk and event.data["attempts"] == 2 and "502" in event.data["error"]


def test_without_a_configured_connector_nothing_is_attempted_and_the_ticket_says_why(
        client, connectors, agent, settings, django_capture_on_commit_callbacks):
    post_telegram(client, fixture("telegram_text.json"))
    ticket = Ticket.objects.get()
    settings.ATENDE_MESSAGING = {**settings.ATENDE_MESSAGING, "telegram": {"bot_token": "", "webhook_secret": "",
                                                                           "api_base": connectors.base}}
    reply(ticket, agent, "Hello", django_capture_on_commit_callbacks)
    assert replies_queued()[0].status == "given_up"
    assert "connector is not configured" in failure_reason(ticket)
    assert not ticket.messages.filter(kind="note").exists()
    assert connectors.sent("/sendMessage") == []


def test_the_console_shows_what_the_platform_reported_for_each_reply(client, connectors, agent,
                                                                      django_capture_on_commit_callbacks):
    post_whatsapp(client, fixture("whatsapp_text.json"))
    ticket = Ticket.objects.get()
    read = reply(ticket, agent, "Yes, in blue.", django_capture_on_commit_callbacks)
    row = ConversationMessage.objects.get(direction="out")
    receipt = fixture("whatsapp_status_read.json")
    receipt["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = row.external_id
    post_whatsapp(client, receipt)
    connectors.fail_next = [400]
    refused = reply(Ticket.objects.get(), agent, "And in red?", django_capture_on_commit_callbacks)
    client.force_login(agent)
    page = client.get(reverse("console:ticket", args=[ticket.number])).content.decode()
    first = page.split(f'id="message-{read.pk}"')[1].split("</header>")[0]
    second = page.split(f'id="message-{refused.pk}"')[1].split("</header>")[0]
    assert 'data-delivery="read"' in first and "WhatsApp: Read" in first
    assert 'data-delivery="failed"' in second and "WhatsApp: Failed" in second and "HTTP 400" in second
    customer_message = page.split("</header>")[0]
    assert "platform-delivery" not in customer_message  # the customer's own message has no delivery badge
