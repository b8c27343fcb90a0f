"""The notice that a webhook was switched off is a mail delivery per administrator, queued in the transaction that
switches it off: sent through a real SMTP server (aiosmtpd on loopback) in each one's language, retried when the
server refuses, skipped for an address that bounced for good, and sent once however often the webhook fails."""

import datetime
import email
import email.policy

import pytest
from django.utils import timezone

from atende.accounts.tests.factories import AdminFactory
from atende.core.actor import Actor
from atende.email_channel.models import UndeliverableAddress
from atende.email_channel.tests.servers import smtp_capture  # noqa: F401 - the fixture
from atende.integrations.services import webhook_disabled_notify, webhook_subscription_create
from atende.outbound.choices import AttemptOutcome, DeliveryStatus
from atende.outbound.models import Delivery
from atende.outbound.services import deliveries_drain
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def failing_webhook(admin_user, receiver, settings):
    settings.ATENDE_WEBHOOK_DISABLE_AFTER = 2
    receiver.default_status = 500
    return webhook_subscription_create(actor=Actor.for_user(admin_user), name="CRM", url=receiver.url,
                                       event_types=["ticket.created"])


def _due_now():
    Delivery.objects.filter(status=DeliveryStatus.FAILED, next_attempt_at__isnull=False).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))


def _notices(capture) -> dict:
    """The captured notices by recipient, found by the Message-IDs they were queued with (the customer's ticket
    mail is left out), with decoded headers."""
    ours = set(Delivery.objects.filter(kind="webhook_disabled").values_list("external_id", flat=True))
    return {m.rcpt_tos[0]: message for m in capture.received
            if (message := email.message_from_bytes(m.raw, policy=email.policy.default))["Message-ID"] in ours}


def _fail_until_disabled(capture, customer):
    with capture(execute=True):
        make_ticket(requester=customer)
    _due_now()
    with capture(execute=True):
        deliveries_drain()


def test_each_admin_gets_the_notice_by_smtp_in_their_language(failing_webhook, admin_user, customer, smtp_capture,  # noqa: F811
                                                               django_capture_on_commit_callbacks):
    AdminFactory(email="lia@support.example", locale="pt-br")
    _fail_until_disabled(django_capture_on_commit_callbacks, customer)
    failing_webhook.refresh_from_db()
    assert not failing_webhook.is_active
    notices = Delivery.objects.filter(transport="mail", kind="webhook_disabled").order_by("target")
    assert sorted(n.target for n in notices) == sorted([admin_user.email, "lia@support.example"])
    assert all(n.status == DeliveryStatus.SENT and n.source == "integrations" for n in notices)
    by_address = _notices(smtp_capture)
    assert set(by_address) == {admin_user.email, "lia@support.example"}
    assert by_address[admin_user.email]["Subject"] == "Webhook “CRM” was disabled"
    assert by_address["lia@support.example"]["Subject"] == "O webhook “CRM” foi desativado"
    portuguese = by_address["lia@support.example"].get_content()
    assert "Corrija o receptor" in portuguese and failing_webhook.url in portuguese
    english = by_address[admin_user.email].get_content()
    assert "Fix the receiver" in english and f"/integrations/webhooks/{failing_webhook.pk}/" in english
    # told once: the same switch-off notified again queues nothing more
    assert webhook_disabled_notify(subscription=failing_webhook) == 0
    assert Delivery.objects.filter(kind="webhook_disabled").count() == 2


def test_a_refusing_smtp_server_is_retried_and_an_undeliverable_admin_is_skipped(
        failing_webhook, admin_user, customer, smtp_capture, django_capture_on_commit_callbacks):  # noqa: F811
    now = timezone.now()
    AdminFactory(email="gone@support.example")
    UndeliverableAddress.objects.create(address="gone@support.example", kind="hard", first_reported_at=now,
                                        last_reported_at=now)
    smtp_capture.refuse = True
    _fail_until_disabled(django_capture_on_commit_callbacks, customer)
    [notice] = Delivery.objects.filter(kind="webhook_disabled")
    assert notice.target == admin_user.email and notice.status == DeliveryStatus.FAILED
    assert "451" in notice.last_error and _notices(smtp_capture) == {}
    smtp_capture.refuse = False
    _due_now()
    deliveries_drain()
    notice.refresh_from_db()
    assert notice.status == DeliveryStatus.SENT
    assert [a.outcome for a in notice.attempt_log.order_by("number")] == [AttemptOutcome.FAILED, AttemptOutcome.SENT]
    assert list(_notices(smtp_capture)) == [admin_user.email]
