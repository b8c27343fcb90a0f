"""Outbound mail through a real SMTP server (aiosmtpd on loopback): agent replies with threading headers,
notifications per language and kind, idempotency, retries with backoff and the failure on the ticket."""

from datetime import timedelta

import pytest
from django.utils import timezone

from atende.accounts.tests.factories import AgentFactory
from atende.core.actor import Actor
from atende.email_channel.choices import InboundSource, InboundStatus
from atende.email_channel.models import NotificationTemplate
from atende.email_channel.services import inbound_process, inbound_store, mail_queue
from atende.email_channel.subscribers import notify_on_events
from atende.email_channel.tests.conftest import make_raw
from atende.outbound.choices import DeliveryStatus
from atende.outbound.models import Delivery, DeliveryAttempt
from atende.outbound.services import deliveries_drain
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.services import message_add_note, message_add_reply, ticket_assign, ticket_transition

pytestmark = pytest.mark.django_db


def ingest(raw: bytes) -> Ticket:
    row, _ = inbound_store(raw=raw, source=InboundSource.SMTP)
    return Ticket.objects.get(pk=inbound_process(inbound_id=row.pk).ticket_id)


def by_kind(capture, subject_part: str):
    return [m for m in capture.received if subject_part in m.message["Subject"]]


def test_agent_reply_is_mailed_threaded_and_the_answer_comes_back(
        mailbox, agent, smtp_capture, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ingest(make_raw(cc="carla@customer.example"))
    with django_capture_on_commit_callbacks(execute=True):
        message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="Please restart the printer.")
    [sent] = [m for m in smtp_capture.received if m.message["Subject"].startswith("Re:")]
    headers = sent.message
    assert headers["Subject"] == f"Re: Printer broken [#{ticket.number}]"
    assert sorted(sent.rcpt_tos) == ["ana@customer.example", "carla@customer.example"]
    assert headers["Cc"] == "carla@customer.example"
    assert headers["From"] == f'"{mailbox.team.name}" <support@atende.test>'
    assert headers["Reply-To"] == f"support+{ticket.number}-{ticket.reply_token}@atende.test"
    assert headers["In-Reply-To"] == "<m1@customer.example>" and "<m1@customer.example>" in headers["References"]
    assert headers["Message-ID"].startswith("<atende.") and headers["Auto-Submitted"] is None  # a person wrote it
    assert "Please restart the printer." in sent.message.get_payload(0).get_payload(decode=True).decode()
    # The customer answers that mail: it threads by In-Reply-To (our Message-ID) back onto the ticket.
    answer = make_raw(message_id="<m2@customer.example>", subject=f"Re: Printer broken [#{ticket.number}]",
                      body="Done, it works.\n\nOn Mon, Jan 1, 2024 at 10:00 AM Support wrote:\n> Please restart",
                      headers={"In-Reply-To": headers["Message-ID"]})
    row, _ = inbound_store(raw=answer, source=InboundSource.SMTP)
    row = inbound_process(inbound_id=row.pk)
    assert (row.status, row.ticket_id) == (InboundStatus.REPLY_ADDED, ticket.pk)
    assert ticket.messages.order_by("-id").first().body_text == "Done, it works."


def test_notifications_use_the_recipients_language_and_admin_edited_templates(
        mailbox, team, smtp_capture, django_capture_on_commit_callbacks):
    colleague = AgentFactory(locale="pt-br")
    team.members.add(colleague)
    NotificationTemplate.objects.filter(kind="acknowledgement", language="en").update(
        subject="Got it: {{ ticket.subject }}", body="Hi {{ recipient.first_name }}, ticket {{ ticket.number }}.")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ingest(make_raw())
    [ack] = by_kind(smtp_capture, "Got it")
    assert ack.message["Subject"] == f"Got it: Printer broken [#{ticket.number}]"
    assert ack.message["Auto-Submitted"] == "auto-generated" and ack.rcpt_tos == ["ana@customer.example"]
    [team_mail] = by_kind(smtp_capture, "Novo chamado")
    assert team_mail.rcpt_tos == [colleague.email]
    assert "abriu o chamado" in team_mail.message.get_payload(0).get_payload(decode=True).decode()


def test_each_event_notifies_the_right_people(mailbox, agent, smtp_capture, django_capture_on_commit_callbacks):
    other = AgentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ingest(make_raw())
        ticket_assign(ticket=ticket, team=ticket.team, assignee=other, actor=Actor.for_user(agent))
    assert [m.rcpt_tos for m in by_kind(smtp_capture, "assigned to you")] == [[other.email]]
    with django_capture_on_commit_callbacks(execute=True):
        ingest(make_raw(message_id="<m5@customer.example>", body="Any news?",
                        headers={"In-Reply-To": "<m1@customer.example>"}))
    assert [m.rcpt_tos for m in by_kind(smtp_capture, "Customer replied")] == [[other.email]]
    with django_capture_on_commit_callbacks(execute=True):
        message_add_note(ticket=ticket, actor=Actor.for_user(other), body_text=f"@{agent.email} can you look?")
    assert [m.rcpt_tos for m in by_kind(smtp_capture, "mentioned you")] == [[agent.email]]
    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(ticket=ticket, to="solved", actor=Actor.for_user(other))
    [solved] = by_kind(smtp_capture, "has been solved")
    assert solved.rcpt_tos == ["ana@customer.example"] and solved.message["Auto-Submitted"] == "auto-generated"


def test_notifying_twice_for_the_same_event_sends_once(mailbox, smtp_capture, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ingest(make_raw())
    event = TicketEvent.objects.get(ticket=ticket, type="TICKET_CREATED")
    payload = {"type": event.type, "event_id": event.pk, "ticket_id": ticket.pk, "data": event.data,
               "actor_kind": event.actor_kind, "actor_user_id": None}
    with django_capture_on_commit_callbacks(execute=True):
        notify_on_events([payload])
        notify_on_events([payload])
    assert len(by_kind(smtp_capture, "We received")) == 1
    assert Delivery.objects.filter(transport="mail", ticket_id=ticket.pk, kind="acknowledgement").count() == 1


def test_failed_delivery_is_retried_with_backoff_then_shown_on_the_ticket(
        mailbox, smtp_capture, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_OUTBOUND_MAX_ATTEMPTS = 3
    ticket = ingest(make_raw())
    smtp_capture.refuse = True
    with django_capture_on_commit_callbacks(execute=True):
        row = mail_queue(to=["ana@customer.example"], subject="Hello", body_text="Body", ticket=ticket, kind="test")
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1) and "451" in row.last_error
    first_delay = row.next_attempt_at - timezone.now()
    assert timedelta(seconds=50) < first_delay <= timedelta(seconds=60)
    assert deliveries_drain() == 0  # not due yet
    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        deliveries_drain()
    row.refresh_from_db()
    assert row.attempts == 2 and timedelta(seconds=100) < row.next_attempt_at - timezone.now() <= timedelta(seconds=120)
    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        deliveries_drain()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.GIVEN_UP and row.next_attempt_at is None
    assert list(DeliveryAttempt.objects.filter(delivery=row).values_list("outcome", flat=True)) == ["failed"] * 3
    event = TicketEvent.objects.get(ticket=ticket, type="NOTIFICATION_FAILED")
    assert event.data["outbound_id"] == row.pk and event.data["attempts"] == 3
    assert event.data["recipients"] == ["ana@customer.example"] and "451" in event.data["error"]
    assert smtp_capture.received == []


def test_a_retry_after_the_server_recovers_delivers(mailbox, smtp_capture, django_capture_on_commit_callbacks):
    smtp_capture.refuse = True
    with django_capture_on_commit_callbacks(execute=True):
        row = mail_queue(to=["someone@example.com"], subject="Later", body_text="Body")
    smtp_capture.refuse = False
    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert deliveries_drain() == 1
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.attempts == 2 and row.sent_at
    assert [m.rcpt_tos for m in smtp_capture.received] == [["someone@example.com"]]
    assert smtp_capture.received[0].message["Message-ID"] == row.external_id  # kept for threading and bounces
    assert deliveries_drain() == 0


def test_generated_files_are_attached(
        mailbox, smtp_capture, django_capture_on_commit_callbacks):
    """Scheduled reports send a CSV through ``files`` (text travels with CRLF line ends over SMTP)."""
    csv = b"team,tickets\nSupport,3\n"
    with django_capture_on_commit_callbacks(execute=True):
        mail_queue(to=["boss@example.com"], subject="Report", body_text="Attached.", kind="report",
                   files=[("report.csv", csv, "text/csv"), ("logo.bin", bytes(range(256)), "application/octet-stream")])
    [sent] = smtp_capture.received
    parts = {p.get_filename(): p for p in sent.message.walk() if p.get_filename()}
    assert parts["report.csv"].get_payload(decode=True).replace(b"\r\n", b"\n") == csv
    assert parts["report.csv"].get_content_type() == "text/csv"
    assert parts["logo.bin"].get_payload(decode=True) == bytes(range(256))


def test_one_refused_mail_in_a_drained_batch_does_not_stop_the_others(mailbox, smtp_capture,
                                                                       django_capture_on_commit_callbacks):
    """A drained batch shares one SMTP session; a refusal in the middle starts a fresh one for the next mail."""
    accept = smtp_capture.handle_DATA

    async def refuse_bad(server, session, envelope):
        if "bad@example.com" in envelope.rcpt_tos:
            return "451 4.3.0 Try again later"
        return await accept(server, session, envelope)

    smtp_capture.handle_DATA = refuse_bad
    with django_capture_on_commit_callbacks(execute=False):  # left for the drain, not sent one by one
        rows = [mail_queue(to=[to], subject=f"Batch {to}", body_text="Body")
                for to in ("first@example.com", "bad@example.com", "last@example.com")]
    assert deliveries_drain() == 3
    assert sorted(m.rcpt_tos[0] for m in smtp_capture.received) == ["first@example.com", "last@example.com"]
    statuses = {r.payload["to"][0]: Delivery.objects.get(pk=r.pk).status for r in rows}
    assert statuses == {"first@example.com": DeliveryStatus.SENT, "bad@example.com": DeliveryStatus.FAILED,
                        "last@example.com": DeliveryStatus.SENT}


@pytest.mark.parametrize(("locale", "with_policy", "expected"), [
    ("en", True, "We usually answer within 4 business hours."),
    ("pt-br", True, "Costumamos responder em até 4 horas úteis."),
    ("en", False, "We will answer as soon as possible."),
])
def test_the_acknowledgement_states_the_expected_first_reply_time(
        locale, with_policy, expected, mailbox, smtp_capture, django_capture_on_commit_callbacks):
    """The SLA target that applied (notifications run after SLA), in the customer's language."""
    from atende.accounts.tests.factories import CustomerFactory
    from atende.sla.services.definitions import policy_save

    CustomerFactory(email="ana@customer.example", locale=locale)
    if with_policy:
        policy_save(name="Standard", conditions={}, first_reply_minutes=240, business_hours=True)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ingest(make_raw())
    [ack] = [m for m in smtp_capture.received if m.rcpt_tos == ["ana@customer.example"]]  # the only mail to her
    body = ack.message.get_payload(0).get_payload(decode=True).decode()
    assert f"#{ticket.number}. {expected}" in body
