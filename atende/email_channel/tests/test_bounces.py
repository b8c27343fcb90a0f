"""Bounces and complaints about mail the desk sent, end to end: the delivery is marked bounced, the ticket's
timeline says so, a permanent failure or a complaint makes the address undeliverable (no more notifications,
flagged in the console), and Amazon SES reports arrive by HTTP too."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atende.core.actor import Actor
from atende.email_channel.choices import InboundStatus
from atende.email_channel.models import UndeliverableAddress
from atende.email_channel.selectors import undeliverable_among
from atende.email_channel.tests.conftest import make_raw
from atende.email_channel.tests.test_bounce_parsing import sample
from atende.email_channel.tests.test_inbound import ingest
from atende.outbound.models import Delivery
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.services import message_add_reply

SES_TOKEN = "s3cret-ses-token-for-tests"


@pytest.fixture
def acknowledged(mailbox, django_capture_on_commit_callbacks):
    """A ticket opened by mail from ana@customer.example, and the acknowledgement the desk sent her."""
    with django_capture_on_commit_callbacks(execute=True):
        ticket = Ticket.objects.get(pk=ingest(make_raw()).ticket_id)
    ack = Delivery.objects.get(transport="mail", ticket_id=ticket.pk, kind="acknowledgement")
    return ticket, ack


def bounce_of(name: str, ack: Delivery, ticket: Ticket) -> bytes:
    return sample(name, message_id=ack.external_id.strip("<>"), ticket=ticket.pk)


@pytest.mark.parametrize("name, kind", [("dsn_hard.eml", "hard"), ("qmail_text.eml", "hard"),
                                        ("arf_complaint.eml", "complaint")])
def test_a_permanent_bounce_or_complaint_marks_the_delivery_and_the_address(acknowledged, name, kind,
                                                                          django_capture_on_commit_callbacks):
    ticket, ack = acknowledged
    with django_capture_on_commit_callbacks(execute=True):
        row = ingest(bounce_of(name, ack, ticket))
    assert (row.status, row.reason, row.ticket_id) == (InboundStatus.IGNORED, "bounce", ticket.pk)
    ack.refresh_from_db()
    assert ack.status == "bounced" and ack.last_error.startswith(kind)
    event = TicketEvent.objects.get(ticket=ticket, type="EMAIL_BOUNCED")
    assert event.data["recipients"] == ["ana@customer.example"] and event.data["bounce"] == kind
    assert event.data["outbound_id"] == ack.pk
    marked = UndeliverableAddress.objects.get(address="ana@customer.example")
    assert marked.kind == kind and marked.ticket_id == ticket.pk
    assert Ticket.objects.count() == 1  # the bounce opened nothing


def test_a_delayed_delivery_is_written_on_the_ticket_but_fails_nothing(acknowledged,
                                                                      django_capture_on_commit_callbacks):
    ticket, ack = acknowledged
    with django_capture_on_commit_callbacks(execute=True):
        ingest(bounce_of("dsn_delayed.eml", ack, ticket))
    ack.refresh_from_db()
    assert ack.status != "bounced"
    assert TicketEvent.objects.get(ticket=ticket, type="EMAIL_BOUNCED").data["bounce"] == "soft"
    assert not undeliverable_among(["ana@customer.example"])


def test_no_notification_goes_to_an_undeliverable_address(acknowledged, agent, django_capture_on_commit_callbacks):
    ticket, ack = acknowledged
    with django_capture_on_commit_callbacks(execute=True):
        ingest(bounce_of("dsn_hard.eml", ack, ticket))
    before = Delivery.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="We are on it.")
    later = Delivery.objects.filter(transport="mail").order_by("id")[before:]
    assert [d for d in later if "ana@customer.example" in json.dumps(d.payload)] == []


def test_the_console_shows_the_requester_is_undeliverable(acknowledged, agent, django_capture_on_commit_callbacks):
    ticket, ack = acknowledged
    client = Client()
    client.force_login(agent)
    page = client.get(f"/console/tickets/{ticket.number}/").content.decode()
    assert 'data-flag="undeliverable"' not in page
    with django_capture_on_commit_callbacks(execute=True):
        ingest(bounce_of("dsn_hard.eml", ack, ticket))
    page = client.get(f"/console/tickets/{ticket.number}/").content.decode()
    assert 'data-flag="undeliverable"' in page and "bounced permanently" in page


def test_a_bounce_of_mail_we_never_sent_opens_nothing_and_still_stops_mail_to_a_dead_address(mailbox):
    row = ingest(sample("dsn_hard.eml", recipient="ghost@customer.example", message_id="never@elsewhere.example"))
    assert row.status == InboundStatus.IGNORED and not Ticket.objects.exists()
    assert undeliverable_among(["GHOST@customer.example"]) == {"ghost@customer.example"}


# Amazon SES over HTTP ------------------------------------------------------------------------------------

def post_ses(body: bytes | str, token: str = SES_TOKEN):
    body = body.encode() if isinstance(body, str) else body
    return Client().generic("POST", f"/email/ses/{token}/", body, content_type="text/plain; charset=UTF-8")


def sns(notification: str) -> str:
    return json.dumps({"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:x", "Message": notification})


def test_an_ses_bounce_posted_by_sns_is_applied(acknowledged, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_SES_WEBHOOK_TOKEN = SES_TOKEN
    ticket, ack = acknowledged
    with django_capture_on_commit_callbacks(execute=True):
        response = post_ses(sns(sample("ses_bounce.json", message_id=ack.external_id.strip("<>")).decode()))
    assert response.status_code == 200 and response.json() == {"status": "applied", "tickets": [ticket.pk]}
    ack.refresh_from_db()
    assert ack.status == "bounced"
    assert TicketEvent.objects.get(ticket=ticket, type="EMAIL_BOUNCED").data["source"] == "ses"
    assert undeliverable_among(["ana@customer.example"])


def test_an_ses_complaint_marks_the_address(acknowledged, settings):
    settings.EMAIL_SES_WEBHOOK_TOKEN = SES_TOKEN
    ticket, ack = acknowledged
    assert post_ses(sns(sample("ses_complaint.json", message_id=ack.external_id.strip("<>")).decode())).status_code == 200
    assert UndeliverableAddress.objects.get(address="ana@customer.example").kind == "complaint"


def test_the_ses_endpoint_refuses_a_wrong_secret_and_is_off_without_one(db, settings):
    settings.EMAIL_SES_WEBHOOK_TOKEN = SES_TOKEN
    assert post_ses(sns("{}"), token="wrong").status_code == 404
    settings.EMAIL_SES_WEBHOOK_TOKEN = ""
    assert post_ses(sns("{}"), token="").status_code == 404
    assert Client().get(f"/email/ses/{SES_TOKEN}/").status_code == 405


def test_a_subscription_confirmation_is_logged_for_an_administrator(db, settings, caplog):
    settings.EMAIL_SES_WEBHOOK_TOKEN = SES_TOKEN
    body = json.dumps({"Type": "SubscriptionConfirmation", "SubscribeURL": "https://sns.example/confirm?x=1"})
    assert post_ses(body).json() == {"status": "confirmation_logged"}
    assert "https://sns.example/confirm?x=1" in caplog.text


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.one_of(st.binary(max_size=300), st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["Type", "Message", "notificationType", "bounce", "complaint", "mail", "bouncedRecipients",
                         "emailAddress", "commonHeaders", "messageId", "headers"]), children, max_size=4),
    max_leaves=20).map(json.dumps).map(str.encode)))
def test_whatever_is_posted_the_ses_endpoint_answers_without_a_server_error(db, body):
    from django.test import override_settings

    with override_settings(EMAIL_SES_WEBHOOK_TOKEN=SES_TOKEN):
        response = post_ses(body)
    assert response.status_code in (200, 400)
