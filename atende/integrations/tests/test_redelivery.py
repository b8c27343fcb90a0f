"""The outbound engine is at-least-once in one gap: the far side accepted a delivery, then the worker died before
recording it. The delivery is sent again after its lease, and must then be recognisable as the same one: a webhook
with the same delivery id (header and signed body) and the same bytes, a mail with the same Message-ID. Real
receivers on loopback (an HTTP server, aiosmtpd); the killed worker is a claim whose send is never recorded."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone

from atende.core.actor import Actor
from atende.core.outbox.drain import drain
from atende.email_channel.services import mail_queue
from atende.email_channel.tests.servers import smtp_capture  # noqa: F401 - real SMTP server (aiosmtpd)
from atende.integrations.services import webhook_deliver_adhoc, webhook_subscription_create
from atende.integrations.signing import webhook_signature_verify
from atende.outbound.choices import AttemptOutcome, DeliveryStatus
from atende.outbound.models import Delivery, DeliveryAttempt
from atende.outbound.services import deliveries_claim, deliveries_drain
from atende.outbound.transports import transport_get
from atende.tickets.tests.factories import make_ticket


def _killed_after_send(delivery: Delivery) -> None:
    """A worker claims the delivery, the far side accepts it, and the worker dies before recording anything."""
    (claimed,) = deliveries_claim(ids=[delivery.pk], limit=1)
    transport_get(claimed.transport).send(claimed)
    Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - datetime.timedelta(seconds=1))


@pytest.fixture
def subscription(admin_user, receiver):
    return webhook_subscription_create(actor=Actor.for_user(admin_user), name="CRM", url=receiver.url,
                                       event_types=["ticket.created"], secret="whsec_test")


def test_webhook_sent_again_after_a_lost_result_has_the_same_id_and_bytes(subscription, receiver, customer):
    ticket = make_ticket(requester=customer)
    drain(jobs=False)  # the webhooks subscriber queues the delivery (its send-after-commit never runs here)
    delivery = Delivery.objects.get(transport="webhook")
    _killed_after_send(delivery)
    deliveries_drain()  # the lease expired: another worker takes the row over and sends it again

    first, second = receiver.requests
    assert first.body == second.body  # byte-identical
    body = json.loads(first.body)
    assert body["delivery_id"] == delivery.pk and body["ticket"]["id"] == ticket.pk
    for request in (first, second):
        assert request.headers["X-Atende-Delivery"] == str(delivery.pk)
        assert webhook_signature_verify("whsec_test", request.headers["X-Atende-Signature"], request.body)
    assert [r.headers["X-Atende-Attempt"] for r in (first, second)] == ["1", "2"]
    # the signature covers the delivery id: a body with another id does not verify
    forged = first.body.replace(f'"delivery_id":{delivery.pk}'.encode(), f'"delivery_id":{delivery.pk + 1}'.encode())
    assert forged != first.body
    assert not webhook_signature_verify("whsec_test", first.headers["X-Atende-Signature"], forged)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    assert list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("outcome", flat=True)) == [
        AttemptOutcome.LOST, AttemptOutcome.SENT]


def test_each_delivery_has_its_own_id(subscription, receiver, customer):
    make_ticket(requester=customer)
    make_ticket(requester=customer)
    webhook_deliver_adhoc(url=receiver.url, payload={"hello": "world"}, secret="s")
    drain(jobs=False)
    deliveries_drain()
    ids = [json.loads(r.body)["delivery_id"] for r in receiver.requests]
    assert sorted(ids) == sorted(Delivery.objects.filter(transport="webhook").values_list("pk", flat=True))
    assert len(set(ids)) == 3
    assert [r.headers["X-Atende-Delivery"] for r in receiver.requests] == [str(i) for i in ids]


def test_mail_sent_again_after_a_lost_result_has_the_same_message_id(smtp_capture, db):  # noqa: F811
    delivery = mail_queue(to=["ana@customer.example"], subject="Your ticket", body_text="Hello", kind="test")
    _killed_after_send(delivery)
    deliveries_drain()

    first, second = (m.message for m in smtp_capture.received)
    assert first["Message-ID"] == second["Message-ID"] == delivery.external_id
    assert first["Subject"] == second["Subject"] and first.get_payload() == second.get_payload()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)


def test_mail_retried_after_a_refusal_keeps_its_message_id(smtp_capture, db):  # noqa: F811
    smtp_capture.refuse = True
    delivery = mail_queue(to=["ana@customer.example"], subject="Your ticket", body_text="Hello", kind="test")
    deliveries_drain()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and smtp_capture.received == []
    smtp_capture.refuse = False
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    deliveries_drain()
    (sent,) = smtp_capture.received
    assert sent.message["Message-ID"] == delivery.external_id
