"""Sign-up verification, magic links and password resets are mail deliveries of the outbound engine: sent through a
real SMTP server (aiosmtpd on loopback) in the customer's language, retried when the server refuses, skipped for
an address that bounced for good, and never sent when the request's transaction rolls back. The link is removed
from the stored delivery once sent."""

import datetime
import re

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from atende.accounts.tests.factories import CustomerFactory
from atende.core.actor import Actor
from atende.email_channel.models import UndeliverableAddress
from atende.email_channel.tests.servers import smtp_capture  # noqa: F401 - the fixture
from atende.outbound.choices import AttemptOutcome, DeliveryStatus
from atende.outbound.models import Delivery
from atende.outbound.services import deliveries_drain, delivery_retry
from atende.portal.services import auth_email_enqueue, magic_link_send

pytestmark = pytest.mark.django_db
LINK = re.compile(r"http://\S+")


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"


def _text(captured) -> str:
    return captured.message.get_payload(decode=True).decode()


def _link(captured) -> str:
    return LINK.search(_text(captured)).group(0).replace("http://127.0.0.1:8000", "")


@pytest.mark.parametrize(("url", "data", "kind", "subject"), [
    ("accounts:magic_link", {"email": "rosa@cliente.example"}, "auth.magic_link", "log-in link"),
    ("accounts:password_reset", {"email": "rosa@cliente.example"}, "auth.password_reset", "new password"),
    ("accounts:signup", {"name": "Nova", "email": "nova@cliente.example", "password": "a-long-passphrase-42",
                         "password_again": "a-long-passphrase-42"}, "auth.verify_email", "Confirm your email"),
])
def test_each_auth_email_is_a_delivery_sent_by_smtp_and_its_link_works(
        client, smtp_capture, django_capture_on_commit_callbacks, url, data, kind, subject):  # noqa: F811
    CustomerFactory(email="rosa@cliente.example")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse(url), data)
    delivery = Delivery.objects.get(transport="mail")
    assert (delivery.kind, delivery.source, delivery.status) == (kind, "portal", DeliveryStatus.SENT)
    assert [a.outcome for a in delivery.attempt_log.all()] == [AttemptOutcome.SENT]
    [mail] = smtp_capture.received
    assert mail.rcpt_tos == [data["email"]] and subject in mail.message["Subject"]
    link = _link(mail)
    assert link not in str(delivery.payload) and "body_text" in delivery.payload  # the link is not kept
    assert client.get(link, follow=True).status_code == 200


def test_a_sent_link_is_not_sent_again_without_its_body(smtp_capture, django_capture_on_commit_callbacks,  # noqa: F811
                                                         admin_user):
    CustomerFactory(email="rosa@cliente.example")
    with django_capture_on_commit_callbacks(execute=True):
        magic_link_send(email="rosa@cliente.example")
    delivery = Delivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        delivery_retry(delivery=delivery, actor=Actor.for_user(admin_user))  # an administrator's "send now"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.CANCELLED and "ask for a new link" in delivery.last_error
    assert len(smtp_capture.received) == 1


def test_the_link_is_in_the_customers_language(client, smtp_capture,  # noqa: F811
                                               django_capture_on_commit_callbacks):
    CustomerFactory(email="pt@cliente.example", locale="pt-br")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:magic_link"), {"email": "pt@cliente.example"})
    [mail] = smtp_capture.received
    assert mail.message["Subject"].startswith("Seu link de acesso a")


def test_a_refusing_smtp_server_is_retried_with_each_attempt_logged(
        client, smtp_capture, django_capture_on_commit_callbacks):  # noqa: F811
    CustomerFactory(email="rosa@cliente.example")
    smtp_capture.refuse = True
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:magic_link"), {"email": "rosa@cliente.example"})
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and "451" in delivery.last_error
    assert "http://127.0.0.1:8000/" in delivery.payload["body_text"]  # kept until it is sent
    smtp_capture.refuse = False
    Delivery.objects.update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
    assert deliveries_drain() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    assert [a.outcome for a in delivery.attempt_log.order_by("number")] == [AttemptOutcome.FAILED,
                                                                            AttemptOutcome.SENT]
    assert len(smtp_capture.received) == 1 and client.post(_link(smtp_capture.received[0])).status_code == 302


def test_an_undeliverable_address_gets_no_link(client, smtp_capture,  # noqa: F811
                                               django_capture_on_commit_callbacks):
    CustomerFactory(email="rosa@cliente.example")
    now = timezone.now()
    UndeliverableAddress.objects.create(address="rosa@cliente.example", kind="complaint", first_reported_at=now,
                                        last_reported_at=now)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:magic_link"), {"email": "rosa@cliente.example"})
        client.post(reverse("accounts:password_reset"), {"email": "rosa@cliente.example"})
    assert response.status_code in (200, 302)  # the page answers the same either way
    assert not Delivery.objects.exists() and smtp_capture.received == []


def test_a_rolled_back_request_sends_nothing_and_one_link_mails_once(
        smtp_capture, django_capture_on_commit_callbacks):  # noqa: F811
    customer = CustomerFactory(email="rosa@cliente.example")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            assert magic_link_send(email="rosa@cliente.example")
            raise RuntimeError("the request failed")
    assert not Delivery.objects.exists() and smtp_capture.received == []
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_email_enqueue(kind="magic_link", user=customer, url="http://127.0.0.1:8000/x/1/")
        assert auth_email_enqueue(kind="magic_link", user=customer, url="http://127.0.0.1:8000/x/1/") is None
    assert Delivery.objects.count() == 1 and len(smtp_capture.received) == 1
