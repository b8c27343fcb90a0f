"""The "sign-in blocked" notice is a mail delivery of the outbound engine: queued with the lock, sent through a
real SMTP server (aiosmtpd on loopback) in the owner's language, retried when the server refuses, never sent to an
address that bounced for good, and never sent when the lock's transaction rolls back."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from atende.accounts.tests.factories import AgentFactory
from atende.audit.choices import AuditAction
from atende.audit.models import AuditEntry
from atende.email_channel.models import UndeliverableAddress
from atende.email_channel.tests.servers import smtp_capture  # noqa: F401 - the fixture
from atende.outbound.choices import AttemptOutcome, DeliveryStatus
from atende.outbound.models import Delivery
from atende.outbound.services import deliveries_drain
from atende.signin.services.notices import security_email_queue

pytestmark = pytest.mark.django_db


def _lock(client, capture, email, ip="192.0.2.10"):
    for _ in range(5):
        with capture(execute=True):
            client.post("/accounts/login/", {"username": email, "password": "wrong-guess"}, REMOTE_ADDR=ip)


def test_the_lock_notice_is_a_delivery_sent_by_smtp_in_the_owners_language(
        client, smtp_capture, django_capture_on_commit_callbacks):  # noqa: F811
    AgentFactory(email="ana@atende.test", locale="pt-br")
    _lock(client, django_capture_on_commit_callbacks, "ana@atende.test")
    delivery = Delivery.objects.get(transport="mail")
    locked = AuditEntry.objects.get(action=AuditAction.ACCOUNT_LOCKED)
    assert (delivery.kind, delivery.source, delivery.status, delivery.target) == (
        "security.signin_locked", "signin", DeliveryStatus.SENT, "ana@atende.test")
    assert delivery.key == f"signin:signin_locked:{locked.pk}"
    assert [a.outcome for a in delivery.attempt_log.all()] == [AttemptOutcome.SENT]
    [mail] = smtp_capture.received
    assert mail.rcpt_tos == ["ana@atende.test"]
    assert mail.message["Subject"].startswith("A entrada na sua conta") and "foi bloqueada" in mail.message["Subject"]
    assert "192.0.2.10" in mail.message.get_payload(decode=True).decode()
    assert mail.message["Message-ID"] == delivery.external_id


def test_a_refusing_smtp_server_is_retried_with_each_attempt_logged(
        client, smtp_capture, django_capture_on_commit_callbacks):  # noqa: F811
    AgentFactory(email="ana@atende.test")
    smtp_capture.refuse = True
    _lock(client, django_capture_on_commit_callbacks, "ana@atende.test")
    delivery = Delivery.objects.get(transport="mail")
    assert delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at > timezone.now()
    assert "451" in delivery.last_error and smtp_capture.received == []
    smtp_capture.refuse = False
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
    assert deliveries_drain() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    assert [a.outcome for a in delivery.attempt_log.order_by("number")] == [AttemptOutcome.FAILED, AttemptOutcome.SENT]
    assert [m.rcpt_tos for m in smtp_capture.received] == [["ana@atende.test"]]


def test_an_undeliverable_address_is_not_mailed_but_the_lock_stands(
        client, smtp_capture, django_capture_on_commit_callbacks):  # noqa: F811
    AgentFactory(email="ana@atende.test")
    now = timezone.now()
    UndeliverableAddress.objects.create(address="ana@atende.test", kind="hard", first_reported_at=now,
                                        last_reported_at=now)
    _lock(client, django_capture_on_commit_callbacks, "ANA@atende.test")
    assert AuditEntry.objects.filter(action=AuditAction.ACCOUNT_LOCKED).count() == 1
    assert not Delivery.objects.exists() and smtp_capture.received == []


def test_a_rolled_back_change_sends_nothing_and_one_occurrence_mails_once(
        smtp_capture, django_capture_on_commit_callbacks):  # noqa: F811
    agent = AgentFactory(email="ana@atende.test")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            assert security_email_queue(kind="signin_locked", user=agent, data={"ip": "192.0.2.1"}, key="1")
            raise RuntimeError("the lock failed")
    assert not Delivery.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert security_email_queue(kind="signin_locked", user=agent, data={"ip": "192.0.2.1"}, key="7")
        assert security_email_queue(kind="signin_locked", user=agent, data={"ip": "192.0.2.1"}, key="7") is None
    assert Delivery.objects.count() == 1 and len(smtp_capture.received) == 1
