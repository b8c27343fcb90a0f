"""Inbound pipeline: store first, then tickets, replies, threading, loops, limits, content and quarantine."""

from unittest import mock

import pytest
from django.core import mail

from atende.accounts.models import User
from atende.accounts.tests.factories import AgentFactory, CustomerFactory, OrganizationDomainFactory
from atende.core.actor import Actor
from atende.email_channel.choices import InboundSource, InboundStatus, NonParticipantPolicy, SenderRuleKind
from atende.email_channel.models import EmailSettings, InboundMessage, SenderRule
from atende.email_channel.services import (
    inbound_discard,
    inbound_process,
    inbound_reprocess,
    inbound_retry_stale,
    inbound_store,
)
from atende.email_channel.tests.conftest import make_raw
from atende.outbound.models import Delivery
from atende.tickets.models import Attachment, Message, Ticket, TicketEvent
from atende.tickets.services import ticket_transition

pytestmark = pytest.mark.django_db


def ingest(raw: bytes, **kwargs) -> InboundMessage:
    row, _created = inbound_store(raw=raw, source=kwargs.pop("source", InboundSource.IMPORT), **kwargs)
    return inbound_process(inbound_id=row.pk)


def test_new_email_is_stored_then_becomes_a_ticket_in_the_mailbox_team(mailbox, django_capture_on_commit_callbacks):
    OrganizationDomainFactory(domain="customer.example")
    with django_capture_on_commit_callbacks(execute=True):
        row = ingest(make_raw())
    assert row.status == InboundStatus.TICKET_CREATED and row.raw_bytes.startswith(b"From: Ana")
    ticket = Ticket.objects.get(pk=row.ticket_id)
    assert (ticket.subject, ticket.channel, ticket.team) == ("Printer broken", "email", mailbox.team)
    assert ticket.requester.email == "ana@customer.example" and ticket.requester.name == "Ana Souza"
    assert ticket.organization.domains.filter(domain="customer.example").exists()
    message = ticket.messages.get()
    assert message.external_id == "<m1@customer.example>" and message.body_text == "My printer does not print."
    assert message.metadata["email"]["raw_url"] == f"/email/inbound/{row.pk}/raw/"
    assert TicketEvent.objects.filter(ticket=ticket, type="TICKET_CREATED").exists()
    # The acknowledgement went out through the queue, threaded and marked as automatic.
    ack = Delivery.objects.get(transport="mail", ticket_id=ticket.pk, kind="acknowledgement")
    assert ack.status == "sent" and ack.payload["headers"]["Auto-Submitted"] == "auto-generated"
    assert [m.to for m in mail.outbox if "We received" in m.subject] == [["ana@customer.example"]]


def test_same_bytes_or_same_message_never_create_a_second_ticket(mailbox):
    first = ingest(make_raw())
    again, created = inbound_store(raw=make_raw(), source=InboundSource.IMPORT)
    assert not created and again.pk == first.pk
    assert inbound_process(inbound_id=again.pk).status == InboundStatus.TICKET_CREATED
    # The same message delivered again by another route: other trace headers, recipients and transfer encoding.
    relayed = make_raw(headers={"Received": "from mx2.customer.example by mx.atende.test",
                                "Delivered-To": "help@atende.test"}).replace(b"8bit", b"7bit")
    resent = ingest(relayed)
    assert (resent.status, resent.reason) == (InboundStatus.DUPLICATE, "message_id")
    assert Ticket.objects.count() == 1 and Message.objects.count() == 1


def test_reply_threads_by_in_reply_to_and_strips_quoted_history(mailbox):
    first = ingest(make_raw())
    body = ("Still broken, see the log.\n\nEm seg., 1 de jan. de 2024 às 10:00, Suporte <support@atende.test> "
            "escreveu:\n> We are looking into it.\n> Regards")
    reply = ingest(make_raw(subject="Re: Printer broken", message_id="<m2@customer.example>", body=body,
                            headers={"In-Reply-To": "<m1@customer.example>"}))
    assert reply.status == InboundStatus.REPLY_ADDED and reply.ticket_id == first.ticket_id
    message = Message.objects.get(pk=reply.ticket_message_id)
    assert message.body_text == "Still broken, see the log."
    assert message.metadata["email"]["stripped"] is True and message.metadata["email"]["thread"] == "references"


def test_reply_threads_by_subject_tag_and_reply_token_address(mailbox):
    ticket = Ticket.objects.get(pk=ingest(make_raw()).ticket_id)
    to = f"support+{ticket.number}-{ticket.reply_token}@atende.test"
    reply = ingest(make_raw(to=to, subject=f"Re: something else [#{ticket.number}]", message_id="<m3@x>",
                            body="Thanks!"))
    assert (reply.status, reply.ticket_id) == (InboundStatus.REPLY_ADDED, ticket.pk)
    forged = ingest(make_raw(sender="eve@evil.example", to=f"support+{ticket.number}-0000000000000000@atende.test",
                             subject=f"[#{ticket.number}] hijack", message_id="<m4@x>", body="Give me access"))
    assert forged.status == InboundStatus.TICKET_CREATED and forged.ticket_id != ticket.pk


def test_a_message_id_seen_before_with_other_content_is_kept_as_a_second_message(mailbox):
    ticket = Ticket.objects.get(pk=ingest(make_raw()).ticket_id)
    # A client that reuses its Message-ID (or a corrected copy sent again): same id, other words.
    row = ingest(make_raw(body="Sorry, I meant the scanner, not the printer."))
    assert (row.status, row.reason, row.ticket_id) == (InboundStatus.REPLY_ADDED, "message_id_reused", ticket.pk)
    assert f"ticket #{ticket.pk}" in row.detail and "different content" in row.detail
    second = Message.objects.get(pk=row.ticket_message_id)
    assert second.body_text == "Sorry, I meant the scanner, not the printer."
    assert second.metadata["email"]["thread"] == "message_id"
    assert second.metadata["email"]["message_id_reused"]["ticket_id"] == ticket.pk
    assert list(ticket.messages.values_list("external_id", flat=True)) == ["<m1@customer.example>"] * 2
    # Either copy arriving once more is a duplicate of what is stored.
    assert ingest(make_raw(body="Sorry, I meant the scanner, not the printer.\r\n\r\n")).status == \
        InboundStatus.DUPLICATE
    assert Message.objects.count() == 2


def test_an_unrelated_sender_reusing_a_message_id_keeps_their_own_ticket_in_strict_mode(mailbox):
    EmailSettings.objects.update_or_create(pk=1, defaults={"non_participant_policy": NonParticipantPolicy.NEW_TICKET})
    first = ingest(make_raw(message_id="<fixed@robot.example>"))
    other = ingest(make_raw(sender="eve@robot.example", message_id="<fixed@robot.example>", subject="Disk full",
                            body="Alert"))
    assert (other.status, other.reason) == (InboundStatus.TICKET_CREATED, "message_id_reused")
    assert other.ticket_id != first.ticket_id and Ticket.objects.get(pk=other.ticket_id).subject == "Disk full"


def test_a_stranger_replying_joins_the_ticket_as_cc_flagged_for_agents_by_default(mailbox):
    ticket = Ticket.objects.get(pk=ingest(make_raw()).ticket_id)
    row = ingest(make_raw(sender="bob@else.example", message_id="<s1@else.example>", body="Me too",
                          subject="Re: Printer broken", headers={"In-Reply-To": "<m1@customer.example>"}))
    bob = User.objects.get(email="bob@else.example")
    assert (row.status, row.ticket_id) == (InboundStatus.REPLY_ADDED, ticket.pk)
    assert ticket.followers.filter(pk=bob.pk).exists()
    message = Message.objects.get(pk=row.ticket_message_id)
    assert (message.author_id, message.kind) == (bob.pk, "reply")
    assert message.metadata["email"]["joined_as_cc"] is True and message.metadata["email"]["thread"] == "references"
    event = TicketEvent.objects.get(ticket=ticket, type="FOLLOWERS_CHANGED")
    assert event.data == {"added": [bob.pk], "removed": [], "reason": "email_reply"}
    assert event.actor_user_id == bob.pk
    assert Ticket.objects.get(pk=ticket.pk).requester.email == "ana@customer.example"


@pytest.mark.parametrize("where", ["desk", "mailbox"])
def test_strict_mode_opens_a_new_ticket_for_a_stranger(mailbox, where):
    if where == "desk":
        EmailSettings.objects.update_or_create(pk=1, defaults={"non_participant_policy": NonParticipantPolicy.NEW_TICKET})
    else:
        mailbox.non_participant_policy = NonParticipantPolicy.NEW_TICKET
        mailbox.save()
    ticket = Ticket.objects.get(pk=ingest(make_raw()).ticket_id)
    row = ingest(make_raw(sender="bob@else.example", message_id="<s1@else.example>", body="Me too",
                          headers={"In-Reply-To": "<m1@customer.example>"}))
    assert row.status == InboundStatus.TICKET_CREATED and row.ticket_id != ticket.pk
    assert not ticket.followers.exists()


def test_a_mailbox_can_relax_a_strict_desk(mailbox):
    EmailSettings.objects.update_or_create(pk=1, defaults={"non_participant_policy": NonParticipantPolicy.NEW_TICKET})
    mailbox.non_participant_policy = NonParticipantPolicy.ADD_CC
    mailbox.save()
    ticket = Ticket.objects.get(pk=ingest(make_raw()).ticket_id)
    row = ingest(make_raw(sender="bob@else.example", message_id="<s1@else.example>", body="Me too",
                          headers={"In-Reply-To": "<m1@customer.example>"}))
    assert (row.status, row.ticket_id) == (InboundStatus.REPLY_ADDED, ticket.pk)


def test_agent_replying_by_email_posts_a_public_agent_reply(mailbox, agent, django_capture_on_commit_callbacks):
    ticket = Ticket.objects.get(pk=ingest(make_raw()).ticket_id)
    with django_capture_on_commit_callbacks(execute=True):
        row = ingest(make_raw(sender=agent.email, message_id="<a1@support.example>", body="Try turning it off.",
                              headers={"In-Reply-To": "<m1@customer.example>"}))
    message = Message.objects.get(pk=row.ticket_message_id)
    assert (message.ticket_id, message.author_id, message.author_kind, message.kind) == (
        ticket.pk, agent.pk, "agent", "reply")
    assert Ticket.objects.get(pk=ticket.pk).status == "open"
    sent = Delivery.objects.get(transport="mail", ticket_id=ticket.pk, kind="agent_reply")
    assert sent.payload["to"] == ["ana@customer.example"] and "Try turning it off." in sent.payload["body_text"]


def test_customer_reply_to_a_closed_ticket_opens_a_follow_up(mailbox, agent):
    ticket = Ticket.objects.get(pk=ingest(make_raw()).ticket_id)
    for status in ("solved", "closed"):
        ticket = ticket_transition(ticket=ticket, to=status, actor=Actor.for_user(agent))
    row = ingest(make_raw(message_id="<m9@customer.example>", body="It broke again",
                          headers={"In-Reply-To": "<m1@customer.example>"}))
    assert row.status == InboundStatus.TICKET_CREATED
    follow_up = Ticket.objects.get(pk=row.ticket_id)
    assert follow_up.follow_up_of_id == ticket.pk and follow_up.messages.get().body_text == "It broke again"


def test_cc_recipients_become_followers(mailbox):
    row = ingest(make_raw(cc="Carla <carla@customer.example>, support@atende.test"))
    ticket = Ticket.objects.get(pk=row.ticket_id)
    assert list(ticket.followers.values_list("email", flat=True)) == ["carla@customer.example"]


@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "auto-replied"},
    {"Precedence": "bulk"},
    {"Precedence": "junk"},
    {"Precedence": "list"},
    {"X-Autoreply": "yes"},
    {"X-Auto-Response-Suppress": "All"},
])
def test_auto_replies_never_create_tickets_nor_get_answered(mailbox, headers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row = ingest(make_raw(subject="Out of office", headers=headers))
    assert row.status == InboundStatus.IGNORED and row.reason
    assert not Ticket.objects.exists() and not Delivery.objects.exists() and not mail.outbox


def _dsn(original_message_id: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.customer.example\r\nTo: support@atende.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx.customer.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mail system could not deliver your message.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.example\r\n\r\n"
        "Final-Recipient: rfc822; gone@customer.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original_message_id}\r\nSubject: We received your request\r\n--B--\r\n"
    ).encode()


def test_a_bounce_of_our_notification_is_recorded_on_the_ticket(mailbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = Ticket.objects.get(pk=ingest(make_raw()).ticket_id)
    ack = Delivery.objects.get(transport="mail", ticket_id=ticket.pk, kind="acknowledgement")
    with django_capture_on_commit_callbacks(execute=True):
        row = ingest(_dsn(ack.external_id))
    assert (row.status, row.reason, row.ticket_id) == (InboundStatus.IGNORED, "bounce", ticket.pk)
    event = TicketEvent.objects.get(ticket=ticket, type="EMAIL_BOUNCED")
    # The recipients the report names as failed (here another address than the one the delivery went to).
    assert event.data["outbound_id"] == ack.pk and event.data["recipients"] == ["gone@customer.example"]
    assert Ticket.objects.count() == 1 and Delivery.objects.count() == 1  # nothing answered the bounce


def test_per_sender_rate_limit_quarantines_a_mail_storm(mailbox):
    EmailSettings.objects.update_or_create(pk=1, defaults={"rate_limit_per_hour": 3})
    rows = [ingest(make_raw(message_id=f"<storm{i}@customer.example>", subject=f"Storm {i}")) for i in range(5)]
    assert [r.status for r in rows] == [InboundStatus.TICKET_CREATED] * 3 + [InboundStatus.QUARANTINED] * 2
    assert rows[-1].reason == "rate_limited" and Ticket.objects.count() == 3
    SenderRule.objects.create(kind=SenderRuleKind.ALLOW, pattern="customer.example")
    assert inbound_reprocess(inbound=rows[-1], actor=Actor.system()).status == InboundStatus.TICKET_CREATED


def test_per_sender_limit_is_a_sliding_hour_in_the_shared_throttle(mailbox, monkeypatch):
    """The limit lives in core.throttle (scope email.sender): an hour later the sender is admitted again, and
    another sender was never affected."""
    import time
    import types

    from atende.core.models import ThrottleBucket

    EmailSettings.objects.update_or_create(pk=1, defaults={"rate_limit_per_hour": 2})
    rows = [ingest(make_raw(message_id=f"<slide{i}@customer.example>", subject=f"Slide {i}")) for i in range(3)]
    assert [r.status for r in rows] == [InboundStatus.TICKET_CREATED] * 2 + [InboundStatus.QUARANTINED]
    counted = ThrottleBucket.objects.filter(scope="email.sender", subject="ana@customer.example")
    assert sum(counted.values_list("hits", flat=True)) == 2
    other = ingest(make_raw(sender="bob@customer.example", message_id="<bob1@customer.example>"))
    assert other.status == InboundStatus.TICKET_CREATED
    later = time.time() + 2 * 3600 + 1
    monkeypatch.setattr("atende.core.throttle.time", types.SimpleNamespace(time=lambda: later))
    again = ingest(make_raw(message_id="<slide9@customer.example>", subject="Slide 9"))
    assert again.status == InboundStatus.TICKET_CREATED


def test_block_and_allow_lists(mailbox):
    SenderRule.objects.create(kind=SenderRuleKind.BLOCK, pattern="spam.example")
    SenderRule.objects.create(kind=SenderRuleKind.ALLOW, pattern="friend@spam.example")
    blocked = ingest(make_raw(sender="x@spam.example", message_id="<b1@x>"))
    allowed = ingest(make_raw(sender="friend@spam.example", message_id="<b2@x>"))
    assert (blocked.status, blocked.reason) == (InboundStatus.IGNORED, "blocked")
    assert allowed.status == InboundStatus.TICKET_CREATED
    EmailSettings.objects.update_or_create(pk=1, defaults={"only_allowed_senders": True})
    stranger = ingest(make_raw(sender="new@other.example", message_id="<b3@x>"))
    assert (stranger.status, stranger.reason) == (InboundStatus.QUARANTINED, "not_allowed")


def _multipart_with_files() -> bytes:
    return (
        "From: ana@customer.example\r\nTo: support@atende.test\r\nSubject: =?iso-8859-1?q?Relat=F3rio_anexo?=\r\n"
        "Message-ID: <att1@customer.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=OUT\r\n\r\n"
        "--OUT\r\nContent-Type: multipart/related; boundary=REL\r\n\r\n"
        "--REL\r\nContent-Type: text/html; charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        "<p>Segue o relat=F3rio <img src=3D\"cid:logo@x\"><script>alert(1)</script>"
        "<img src=3D\"https://tracker.example/p.gif\"></p>\r\n"
        "--REL\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        "iVBORw0KGgo=\r\n--REL--\r\n"
        "--OUT\r\nContent-Type: application/pdf; name=\"relatório.pdf\"\r\nContent-Disposition: attachment; "
        "filename*=utf-8''relat%C3%B3rio.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
        "--OUT\r\nContent-Type: application/x-msdownload; name=setup.exe\r\nContent-Disposition: attachment; "
        "filename=setup.exe\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--OUT--\r\n"
    ).encode()


def test_html_charsets_attachments_and_inline_images(mailbox):
    row = ingest(_multipart_with_files())
    ticket = Ticket.objects.get(pk=row.ticket_id)
    assert ticket.subject == "Relatório anexo"
    message = ticket.messages.get()
    assert "Segue o relatório" in message.body_text
    assert 'src="cid:logo@x"' in message.body_html
    assert "<script" not in message.body_html
    # The tracking pixel is kept only where no browser fetches it, for the agent's "Load images".
    assert '<img data-remote-src="https://tracker.example/p.gif">' in message.body_html
    files = {a.filename: a for a in Attachment.objects.filter(message=message)}
    assert set(files) == {"relatório.pdf", "part-2.png"} or set(files) >= {"relatório.pdf"}
    assert any(a.content_id == "logo@x" for a in files.values())
    skipped = message.metadata["email"]["skipped_attachments"]
    assert [s["filename"] for s in skipped] == ["setup.exe"] and skipped[0]["reason"] == "attachment_type"


def test_the_agent_sees_inline_images_and_loads_remote_ones_only_on_request(client, mailbox, agent):
    from atende.core.image_proxy import proxy_target

    row = ingest(_multipart_with_files())
    message = Message.objects.get(pk=row.ticket_message_id)
    logo = Attachment.objects.get(message=message, content_id="logo@x")
    client.force_login(agent)
    page = client.get(f"/console/tickets/{row.ticket_id}/").content.decode()
    assert f'<img src="/tickets/attachments/{logo.pk}/">' in page  # cid: points at the stored part
    [pixel] = [tag for tag in page.split("<img")[1:] if "tracker.example" in tag]
    assert " src=" not in pixel.split(">")[0]
    token = pixel.split('data-proxy-src="/image-proxy/?t=', 1)[1].split('"', 1)[0]
    assert proxy_target(token) == "https://tracker.example/p.gif"
    assert f'data-load-remote-images="message-body-{message.pk}"' in page and "console/remote_images.js" in page


def test_malformed_headers_never_crash(mailbox):
    raw = (b"From: =?x-unknown-charset?B?QW5h?= <ana@customer.example>\r\nTo: support@atende.test\r\n"
           b"Subject: =?utf-8?B?broken==?= caf\xe9 \xff\r\nDate: not a date\r\nMessage-ID: <<bad>>\r\n"
           b"Content-Type: text/plain; charset=\"no-such-charset\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           b"this is not base64 !!!\r\n")
    row = ingest(raw)
    assert row.status == InboundStatus.TICKET_CREATED
    assert "café" in Ticket.objects.get(pk=row.ticket_id).subject  # the undecodable word is kept as written


def test_a_message_stored_before_a_crash_is_processed_by_the_retry(mailbox, monkeypatch):
    row, _ = inbound_store(raw=make_raw(), source=InboundSource.SMTP)
    InboundMessage.objects.filter(pk=row.pk).update(received_at=row.received_at.replace(year=2020))
    assert inbound_retry_stale() == 1
    assert InboundMessage.objects.get(pk=row.pk).status == InboundStatus.TICKET_CREATED


def test_a_failure_rolls_back_and_quarantines_then_reprocess_succeeds(mailbox, admin_user):
    with mock.patch("atende.email_channel.services.inbound.content_build", side_effect=RuntimeError("boom")):
        row = ingest(make_raw())
    assert (row.status, row.reason) == (InboundStatus.QUARANTINED, "error") and "boom" in row.detail
    assert not Ticket.objects.exists() and not User.objects.filter(email="ana@customer.example").exists()
    assert inbound_reprocess(inbound=row, actor=Actor.for_user(admin_user)).status == InboundStatus.TICKET_CREATED
    other = ingest(make_raw(sender="", message_id="<x@y>"))
    assert other.status == InboundStatus.QUARANTINED
    assert inbound_discard(inbound=other, actor=Actor.for_user(admin_user)).status == InboundStatus.DISCARDED


def test_quarantine_page_and_raw_message_permissions(client, mailbox, admin_user, agent):
    bad = ingest(make_raw(sender="", message_id="<q@y>"))
    good = ingest(make_raw())
    client.force_login(agent)
    assert client.get("/email/quarantine/").status_code == 404
    assert client.get(f"/email/inbound/{bad.pk}/raw/").status_code == 404  # on no ticket: admins only
    assert client.get(f"/email/inbound/{good.pk}/raw/").status_code == 200  # the agent sees the team's ticket
    customer = CustomerFactory()
    client.force_login(customer)
    assert client.get(f"/email/inbound/{good.pk}/raw/").status_code == 404
    client.force_login(admin_user)
    page = client.get("/email/quarantine/")
    assert page.status_code == 200 and b"invalid_sender" in page.content
    response = client.post(f"/email/quarantine/{bad.pk}/", {"action": "discard"})
    assert response.status_code == 302 and InboundMessage.objects.get(pk=bad.pk).status == InboundStatus.DISCARDED


def test_collaborator_replying_by_email_adds_an_internal_note(mailbox, collaborator):
    ticket = Ticket.objects.get(pk=ingest(make_raw()).ticket_id)
    row = ingest(make_raw(sender=collaborator.email, message_id="<c1@x>", body="FYI: known issue",
                          headers={"In-Reply-To": "<m1@customer.example>"}))
    note = Message.objects.get(pk=row.ticket_message_id)
    assert (note.ticket_id, note.kind) == (ticket.pk, "note")


def test_staff_are_never_created_as_customers(mailbox):
    AgentFactory(email="helper@support.example")
    row = ingest(make_raw(cc="helper@support.example"))
    assert User.objects.get(email="helper@support.example").role == "agent"
    assert row.status == InboundStatus.TICKET_CREATED
