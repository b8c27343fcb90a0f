"""Mail coming in: IMAP from a real dovecot, the SMTP/LMTP listener over smtplib, and ``mail-import``."""

import io
import os
import smtplib
import sys
import threading
import time

import pytest
from django.core.management import CommandError, call_command

from atende.email_channel.choices import AfterStore, InboundStatus, TlsMode
from atende.email_channel.models import InboundMessage, Mailbox
from atende.email_channel.services.imap import mailbox_fetch, mailbox_watch
from atende.email_channel.services.listener import listener_controller
from atende.email_channel.tests.conftest import make_raw
from atende.email_channel.tests.servers import free_port
from atende.tickets.models import Ticket


def _imap_mailbox(server, team, **extra) -> Mailbox:
    return Mailbox.objects.create(name="IMAP", address="support@atende.test", team=team, imap_host=server.host,
                                  imap_port=server.port, tls=TlsMode.NONE, username=server.user,
                                  password=server.password, **extra)


@pytest.mark.django_db
@pytest.mark.parametrize("after_store", [AfterStore.MARK_SEEN, AfterStore.MOVE, AfterStore.DELETE])
def test_imap_fetch_stores_then_disposes_of_each_message(dovecot_server, team, after_store):
    dovecot_server.append(make_raw())
    dovecot_server.append(make_raw(message_id="<m2@customer.example>", subject="Second"))
    box = _imap_mailbox(dovecot_server, team, after_store=after_store, move_to_folder="Processed")
    stored = mailbox_fetch(mailbox=box)
    assert len(stored) == 2
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Printer broken", "Second"]
    assert set(Ticket.objects.values_list("team", flat=True)) == {team.pk}
    assert InboundMessage.objects.filter(source="imap", mailbox=box, status=InboundStatus.TICKET_CREATED).count() == 2
    if after_store == AfterStore.MARK_SEEN:
        assert dovecot_server.count("INBOX", "UNSEEN") == 0 and dovecot_server.count("INBOX") == 2
    elif after_store == AfterStore.MOVE:
        assert dovecot_server.count("INBOX") == 0 and dovecot_server.count("Processed") == 2
    else:
        assert dovecot_server.count("INBOX") == 0
    assert mailbox_fetch(mailbox=box) == []  # nothing waiting, nothing created twice
    assert Ticket.objects.count() == 2
    box.refresh_from_db()
    assert box.last_error == "" and box.last_fetch_at is not None


@pytest.mark.django_db
def test_imap_wrong_password_is_recorded_on_the_mailbox(dovecot_server, team):
    box = _imap_mailbox(dovecot_server, team)
    box.password = "wrong"
    box.save()
    assert mailbox_fetch(mailbox=box) == []
    box.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in box.last_error or "failed" in box.last_error.lower()


@pytest.mark.django_db(transaction=True)
def test_imap_idle_picks_up_a_new_message_while_watching(dovecot_server, team):
    box = _imap_mailbox(dovecot_server, team)
    stop = threading.Event()
    watcher = threading.Thread(target=mailbox_watch, kwargs={"mailbox": box, "stop": stop, "poll_seconds": 30})
    watcher.start()
    try:
        time.sleep(1.0)  # connected and idling
        dovecot_server.append(make_raw(subject="Arrived during IDLE"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not Ticket.objects.filter(subject="Arrived during IDLE").exists():
            time.sleep(0.2)
        assert Ticket.objects.filter(subject="Arrived during IDLE").exists()
    finally:
        stop.set()
        watcher.join(timeout=10)
    assert not watcher.is_alive()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lmtp", [False, True])
def test_listener_stores_what_smtplib_sends(team, lmtp):
    Mailbox.objects.create(name="Support", address="support@atende.test", team=team)
    port = free_port()
    controller = listener_controller(host="127.0.0.1", port=port, lmtp=lmtp)
    controller.start()
    try:
        client = smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP("127.0.0.1", port, timeout=10)
        with client:
            refused = client.sendmail("ana@customer.example", ["support@atende.test"], make_raw())
        assert refused == {}
    finally:
        controller.stop()
    row = InboundMessage.objects.get()
    assert (row.source, row.envelope_from, row.envelope_to) == ("smtp", "ana@customer.example",
                                                                ["support@atende.test"])
    assert row.status == InboundStatus.TICKET_CREATED
    assert Ticket.objects.get().team_id == team.pk


@pytest.mark.django_db
def test_mail_import_eml_mbox_and_stdin_with_summary_line(tmp_path, mailbox, monkeypatch):
    (tmp_path / "one.eml").write_bytes(make_raw())
    reply = make_raw(message_id="<m2@customer.example>", body="More info",
                     headers={"In-Reply-To": "<m1@customer.example>"})
    auto = make_raw(message_id="<m3@x>", headers={"Auto-Submitted": "auto-replied"})
    nosender = b"Subject: no sender\r\n\r\nbody\r\n"
    mbox = b"".join(b"From someone Mon Jan  1 00:00:00 2024\n" + m + b"\n" for m in (reply, auto, nosender))
    (tmp_path / "box.mbox").write_bytes(mbox)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(make_raw(message_id="<m4@x>", subject="Piped"))))
    out = io.StringIO()
    call_command("mail-import", str(tmp_path / "one.eml"), str(tmp_path / "box.mbox"), "-",
                 str(tmp_path / "one.eml"), stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines == ["mail-import: 4 files: 0 unreadable, 0 with no message (kept in quarantine); 6 messages: "
                     "5 stored, 2 tickets created, 1 replies threaded, 1 ignored, 1 quarantined, 1 duplicates, "
                     "0 not stored"]
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Piped", "Printer broken"]


@pytest.mark.django_db
def test_mail_import_exits_non_zero_only_when_it_cannot_store(tmp_path, mailbox):
    (tmp_path / "ok.eml").write_bytes(make_raw())
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("mail-import", str(tmp_path / "missing.eml"), str(tmp_path / "ok.eml"), stdout=out,
                     stderr=io.StringIO())
    assert failure.value.returncode == 1
    assert out.getvalue().strip() == ("mail-import: 2 files: 1 unreadable, 0 with no message (kept in quarantine); "
                                      "1 messages: 1 stored, 1 tickets created, 0 replies threaded, 0 ignored, "
                                      "0 quarantined, 0 duplicates, 0 not stored")
    out = io.StringIO()
    call_command("mail-import", str(tmp_path / "ok.eml"), stdout=out)  # a duplicate is not a failure
    assert out.getvalue().strip() == ("mail-import: 1 files: 0 unreadable, 0 with no message (kept in quarantine); "
                                      "1 messages: 0 stored, 0 tickets created, 0 replies threaded, 0 ignored, "
                                      "0 quarantined, 1 duplicates, 0 not stored")


def _mbox(*messages: bytes, newline: bytes) -> bytes:
    lines = b"".join(b"From sender@example.org Mon Jan  1 00:00:00 2024\n" + m + b"\n" for m in messages)
    return lines.replace(b"\r\n", b"\n").replace(b"\n", newline)


@pytest.mark.django_db
@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r", b"mixed"], ids=["LF", "CRLF", "CR", "mixed"])
def test_mail_import_splits_an_mbox_whatever_its_line_endings(tmp_path, mailbox, newline):
    raws = [make_raw(message_id=f"<e{i}@customer.example>", subject=f"Line endings {i}") for i in range(3)]
    if newline == b"mixed":
        data = _mbox(raws[0], newline=b"\r") + _mbox(raws[1], newline=b"\r\n") + _mbox(raws[2], newline=b"\n")
    else:
        data = _mbox(*raws, newline=newline)
    assert data.startswith(b"From ")
    (tmp_path / "old.mbox").write_bytes(data)
    out = io.StringIO()
    call_command("mail-import", str(tmp_path / "old.mbox"), stdout=out)
    assert "3 messages: 3 stored, 3 tickets created" in out.getvalue()
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [f"Line endings {i}" for i in range(3)]
    body = Ticket.objects.get(subject="Line endings 1").messages.get().body_text
    assert body == "My printer does not print."


@pytest.mark.django_db
@pytest.mark.parametrize(("content", "reason"), [
    (b"", "empty"),
    (b" \r\n\t\n", "empty"),
    (b"From someone Mon Jan  1 00:00:00 2024\r\r\nFrom again\r", "no_messages"),
])
def test_a_file_with_no_message_is_kept_in_quarantine_and_the_import_fails(tmp_path, mailbox, content, reason):
    (tmp_path / "odd.mbox").write_bytes(content)
    (tmp_path / "ok.eml").write_bytes(make_raw())
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("mail-import", str(tmp_path / "odd.mbox"), str(tmp_path / "ok.eml"), stdout=out, stderr=err)
    assert failure.value.returncode == 1
    assert out.getvalue().strip() == ("mail-import: 2 files: 0 unreadable, 1 with no message (kept in quarantine); "
                                      "1 messages: 1 stored, 1 tickets created, 0 replies threaded, 0 ignored, "
                                      "0 quarantined, 0 duplicates, 0 not stored")
    kept = InboundMessage.objects.get(status=InboundStatus.QUARANTINED)
    assert (kept.raw_bytes, kept.reason, kept.source) == (content, reason, "import")
    assert str(tmp_path / "odd.mbox") in kept.detail and f"inbound message {kept.pk}" in err.getvalue()


@pytest.mark.django_db(transaction=True)
def test_listener_keeps_an_empty_message_in_quarantine(team):
    port = free_port()
    controller = listener_controller(host="127.0.0.1", port=port)
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            assert client.sendmail("robot@customer.example", ["support@atende.test"], b"") == {}
    finally:
        controller.stop()
    row = InboundMessage.objects.get()
    assert (row.status, row.reason, row.envelope_from) == (InboundStatus.QUARANTINED, "empty",
                                                           "robot@customer.example")


@pytest.mark.django_db
def test_imap_stores_an_empty_message_instead_of_skipping_it_forever(dovecot_server, team):
    dovecot_server.append(make_raw())
    maildir = dovecot_server.root / "mail" / dovecot_server.user
    empty = maildir / "new" / "1700000000.M1P1.atende-test"
    empty.write_bytes(b"")
    os.chown(empty, maildir.stat().st_uid, maildir.stat().st_gid)
    box = _imap_mailbox(dovecot_server, team)
    assert len(mailbox_fetch(mailbox=box)) == 2
    assert sorted(InboundMessage.objects.values_list("status", "reason")) == [
        (InboundStatus.QUARANTINED, "empty"), (InboundStatus.TICKET_CREATED, "")]
    assert dovecot_server.count("INBOX", "UNSEEN") == 0  # both disposed of: nothing is fetched again
    assert mailbox_fetch(mailbox=box) == []
