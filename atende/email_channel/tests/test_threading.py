"""Threading replies whose parent never reached us: the normalised subject, within a time window, only onto a
ticket the sender is already on. Messages go through the real pipeline (store, then process)."""

from datetime import timedelta

import pytest

from atende.email_channel.choices import InboundSource, InboundStatus
from atende.email_channel.models import EmailSettings, InboundMessage
from atende.email_channel.services import inbound_process, inbound_store
from atende.email_channel.services.matching import normalize_subject
from atende.email_channel.tests.conftest import make_raw
from atende.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def ingest(raw: bytes, *, later: timedelta | None = None) -> InboundMessage:
    row, _created = inbound_store(raw=raw, source=InboundSource.IMAP)
    if later is not None:  # the message arrives that much later
        InboundMessage.objects.filter(pk=row.pk).update(received_at=row.received_at + later)
    return inbound_process(inbound_id=row.pk)


# An Outlook reply in German, through a mailing list, to a message of the thread that never reached the desk.
OUTLOOK_REPLY = b"""From: "Souza, Ana" <ana@customer.example>\r
To: support-list@lists.customer.example\r
Cc: support@atende.test\r
Subject: AW: [support-list] RE: Printer   broken\r
Date: Tue, 02 Jan 2024 09:15:00 +0100\r
Message-ID: <AM0PR01MB1234@eurprd01.prod.outlook.com>\r
In-Reply-To: <never-arrived@lists.customer.example>\r
References: <m1@customer.example> <never-arrived@lists.customer.example>\r
Thread-Topic: Printer broken\r
MIME-Version: 1.0\r
Content-Type: text/plain; charset="iso-8859-1"\r
Content-Transfer-Encoding: quoted-printable\r
\r
Es druckt wieder nicht. Gr=FC=DFe, Ana\r
"""


def _thread_start() -> Ticket:
    # The first message names no parent, so "References: <m1@…>" in the reply would thread it; drop that id
    # from the start message so only the subject can.
    return Ticket.objects.get(pk=ingest(make_raw(message_id="<start@customer.example>")).ticket_id)


@pytest.mark.parametrize(("subject", "expected"), [
    ("AW: [support] Re: Printer   broken [#42]", ("printer broken", True)),
    ("RE : Re[2]: Fwd: hello", ("hello", True)),
    ("WG: Enc: RES: SV: Antw: olá", ("olá", True)),
    ("Re(3)：テスト", ("テスト", True)),
    ("Fwd: quarterly report", ("quarterly report", False)),
    ("[users] Printer broken", ("printer broken", False)),
    ("Reunion plans", ("reunion plans", False)),
    ("Re:", ("", True)),
])
def test_subjects_are_normalised_as_mail_clients_write_them(subject, expected):
    assert normalize_subject(subject) == expected


def test_a_reply_whose_parent_never_arrived_joins_the_thread_by_subject(mailbox):
    ticket = _thread_start()
    row = ingest(OUTLOOK_REPLY, later=timedelta(days=1))
    assert (row.status, row.ticket_id) == (InboundStatus.REPLY_ADDED, ticket.pk)
    message = Message.objects.get(pk=row.ticket_message_id)
    assert message.metadata["email"]["thread"] == "subject"
    assert message.body_text == "Es druckt wieder nicht. Grüße, Ana"


def test_a_reply_after_the_window_opens_a_new_ticket(mailbox):
    EmailSettings.objects.update_or_create(pk=1, defaults={"subject_threading_hours": 48})
    ticket = _thread_start()
    row = ingest(OUTLOOK_REPLY, later=timedelta(hours=49))
    assert row.status == InboundStatus.TICKET_CREATED and row.ticket_id != ticket.pk


def test_subject_threading_can_be_turned_off(mailbox):
    EmailSettings.objects.update_or_create(pk=1, defaults={"subject_threading_hours": 0})
    ticket = _thread_start()
    row = ingest(OUTLOOK_REPLY, later=timedelta(minutes=5))
    assert row.status == InboundStatus.TICKET_CREATED and row.ticket_id != ticket.pk


def test_a_new_message_with_the_same_subject_is_a_new_request(mailbox):
    ticket = _thread_start()
    row = ingest(make_raw(message_id="<again@customer.example>", body="Another printer, another floor."))
    assert row.status == InboundStatus.TICKET_CREATED and row.ticket_id != ticket.pk


def test_a_guessed_subject_never_lets_a_stranger_into_a_ticket(mailbox):
    ticket = _thread_start()
    raw = OUTLOOK_REPLY.replace(b'"Souza, Ana" <ana@customer.example>', b"Mallory <mallory@evil.example>")
    row = ingest(raw, later=timedelta(minutes=5))
    assert row.status == InboundStatus.TICKET_CREATED and row.ticket_id != ticket.pk
    assert not ticket.followers.exists()


def test_a_cc_on_the_ticket_may_thread_by_subject(mailbox):
    ticket = Ticket.objects.get(pk=ingest(make_raw(message_id="<start@customer.example>",
                                                   cc="Carla <carla@customer.example>")).ticket_id)
    raw = OUTLOOK_REPLY.replace(b'"Souza, Ana" <ana@customer.example>', b"Carla <carla@customer.example>")
    row = ingest(raw, later=timedelta(hours=2))
    assert (row.status, row.ticket_id) == (InboundStatus.REPLY_ADDED, ticket.pk)


def test_agents_see_why_a_message_joined_the_ticket(client, mailbox, agent):
    ticket = Ticket.objects.get(pk=ingest(make_raw()).ticket_id)
    ingest(make_raw(body="Sorry, I meant the scanner."))  # same Message-ID, other content
    ingest(make_raw(sender="bob@else.example", message_id="<s1@else.example>", body="Me too",
                    headers={"In-Reply-To": "<m1@customer.example>"}))
    client.force_login(agent)
    page = client.get(f"/console/tickets/{ticket.number}/").content.decode()
    assert 'data-flag="joined-as-cc"' in page and 'data-flag="message-id-reused"' in page
    assert "replied by email without being on the ticket" in page
