"""The import invariant, for any input: every message in it ends stored (a ticket or a reply), ignored with a
reason, quarantined with a reason, or a duplicate of something stored; a file with no message in it is itself
kept in quarantine with the reason. Nothing is left pending and nothing is dropped."""

import hashlib

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from atende.email_channel.choices import InboundStatus
from atende.email_channel.models import InboundMessage
from atende.email_channel.services.mail_import import DUPLICATE_BYTES, NOT_STORED, inbound_import_file, split_messages
from atende.email_channel.tests.conftest import make_raw
from atende.tickets.models import Message

pytestmark = pytest.mark.django_db

FINAL_WITH_REASON = {InboundStatus.IGNORED, InboundStatus.QUARANTINED, InboundStatus.DUPLICATE}
STORED = {InboundStatus.TICKET_CREATED, InboundStatus.REPLY_ADDED}

# Pieces of real mail and of mbox files, so that generated input often looks like mail (and parses far enough
# to reach threading, loops and content) rather than only random bytes.
FRAGMENTS = [
    b"From ", b"From sender@example.org Mon Jan  1 00:00:00 2024", b"\n", b"\r\n", b"\r", b"\n\n", b" ", b"\t",
    b"From: Ana <ana@customer.example>", b"From: <>", b"From: not an address", b"To: support@atende.test",
    b"Cc: carla@customer.example, support@atende.test", b"Subject: Printer", b"Subject: Re: Printer",
    b"Subject: =?utf-8?B?w6k=?=", b"Subject: =?x-bad?Q?broken", b"Message-ID: <same@customer.example>",
    b"Message-ID: <other@customer.example>", b"In-Reply-To: <same@customer.example>", b"References: <same@x>",
    b"Auto-Submitted: auto-replied", b"Precedence: bulk", b"MIME-Version: 1.0",
    b"Content-Type: multipart/mixed; boundary=B", b"Content-Type: text/html; charset=utf-8",
    b"Content-Type: message/rfc822", b"Content-Transfer-Encoding: base64", b"Content-Transfer-Encoding: quoted-printable",
    b"--B", b"--B--", b"body text", b"<p>hi<img src=\"http:\\\\evil.example/t.gif\"></p>", b"=C3=A9", b"aGVsbG8=",
    b"\x00", b"\xff\xfe", b"\xe9", b"\xed\xa0\x80", b":", b">From quoted", make_raw(),
]
inputs = st.one_of(
    st.binary(max_size=600),
    st.lists(st.sampled_from(FRAGMENTS), max_size=40).map(b"".join),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=inputs)
@example(data=b"ContenT-type:charset=\x00")  # a charset the codecs refuse with ValueError: was "not stored"
def test_any_bytes_end_stored_ignored_or_quarantined_with_a_reason(mailbox, data):
    with transaction.atomic():
        result = inbound_import_file(data=data, name="fuzz.mbox")
        messages = split_messages(data)
        assert not InboundMessage.objects.filter(status=InboundStatus.PENDING).exists()
        assert result.outcomes[NOT_STORED] == 0, result.errors
        if not messages:
            kept = InboundMessage.objects.get(pk=result.quarantined_whole)
            assert (kept.raw_bytes, kept.status) == (data, InboundStatus.QUARANTINED)
            assert kept.reason in {"empty", "no_messages"} and kept.detail
            assert result.messages == 0 and not result.complete
        else:
            assert result.quarantined_whole is None and result.complete
            # Exactly one outcome per message.
            assert result.messages == len(messages) == sum(result.outcomes.values())
            assert result.outcomes[DUPLICATE_BYTES] == len(messages) - len(set(messages))
            for raw in messages:
                row = InboundMessage.objects.get(sha256=hashlib.sha256(raw).hexdigest())
                assert row.raw_bytes == raw
                if row.status in STORED:
                    assert Message.objects.filter(pk=row.ticket_message_id, ticket_id=row.ticket_id).exists()
                else:
                    assert row.status in FINAL_WITH_REASON and row.reason, (row.status, row.reason)
            assert InboundMessage.objects.count() == len(set(messages))
        transaction.set_rollback(True)


class _Crash(BaseException):
    """The process dying mid-message (what no ``except Exception`` catches)."""


@pytest.mark.django_db(transaction=True)
def test_an_import_that_dies_mid_message_leaves_nothing_half_done_and_importing_again_completes_it(
        mailbox, monkeypatch):
    """A message is stored and processed in one transaction: the file holds it until that commits."""
    from atende.email_channel.services import inbound

    raw = make_raw(message_id="<crash@customer.example>")
    real = inbound._process

    def dies(row, parsed=None, **kwargs):
        real(row, parsed, **kwargs)  # the ticket is written, then the process dies before the commit
        raise _Crash

    monkeypatch.setattr(inbound, "_process", dies)
    with pytest.raises(_Crash):
        inbound_import_file(data=raw, name="crash.eml")
    assert not InboundMessage.objects.exists()
    assert not Message.objects.filter(external_id="<crash@customer.example>").exists()

    monkeypatch.setattr(inbound, "_process", real)
    result = inbound_import_file(data=raw, name="crash.eml")
    row = InboundMessage.objects.get()
    assert (result.stored, dict(result.outcomes)) == (1, {InboundStatus.TICKET_CREATED: 1})
    assert row.status == InboundStatus.TICKET_CREATED and row.attempts == 1
    assert Message.objects.filter(pk=row.ticket_message_id, ticket_id=row.ticket_id).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_bug_while_importing_a_message_quarantines_it_with_nothing_of_its_processing_kept(mailbox, monkeypatch):
    from atende.email_channel.services import inbound
    from atende.tickets.models import Ticket

    raw = make_raw(message_id="<bug@customer.example>")
    real = inbound._process
    tickets_before = Ticket.objects.count()

    def fails(row, parsed=None, **kwargs):
        real(row, parsed, **kwargs)
        raise RuntimeError("a bug after the ticket was written")

    monkeypatch.setattr(inbound, "_process", fails)
    result = inbound_import_file(data=raw, name="bug.eml")
    row = InboundMessage.objects.get()
    assert dict(result.outcomes) == {InboundStatus.QUARANTINED: 1} and result.complete
    assert (row.status, row.reason, row.raw_bytes) == (InboundStatus.QUARANTINED, "error", raw)
    assert "a bug after the ticket was written" in row.detail and row.processed_at is not None
    assert row.ticket_id is None and row.ticket_message_id is None
    assert Ticket.objects.count() == tickets_before
