"""Mail coming in: IMAP from a real dovecot, the SMTP/LMTP listener over smtplib, and ``mail-import``."""

import io
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
    assert lines == ["mail-import: 5 stored, 2 tickets created, 1 replies threaded, 1 ignored, 1 quarantined, "
                     "1 duplicates"]
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Piped", "Printer broken"]


@pytest.mark.django_db
def test_mail_import_exits_non_zero_only_when_it_cannot_store(tmp_path, mailbox):
    (tmp_path / "ok.eml").write_bytes(make_raw())
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("mail-import", str(tmp_path / "missing.eml"), str(tmp_path / "ok.eml"), stdout=out,
                     stderr=io.StringIO())
    assert failure.value.returncode == 1
    assert out.getvalue().strip().endswith("1 stored, 1 tickets created, 0 replies threaded, 0 ignored, "
                                           "0 quarantined, 0 duplicates")
    out = io.StringIO()
    call_command("mail-import", str(tmp_path / "ok.eml"), stdout=out)  # a duplicate is not a failure
    assert out.getvalue().strip() == ("mail-import: 0 stored, 0 tickets created, 0 replies threaded, 0 ignored, "
                                      "0 quarantined, 1 duplicates")
