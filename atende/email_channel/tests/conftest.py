"""Fixtures for the email channel: raw messages, a mailbox, and real SMTP/IMAP servers on loopback."""

import pytest

from atende.email_channel.models import Mailbox
from atende.email_channel.tests.servers import dovecot_server, smtp_capture  # noqa: F401


@pytest.fixture
def mailbox(db, team):
    return Mailbox.objects.create(name="Support", address="support@atende.test", team=team)


def make_raw(*, sender="ana@customer.example", to="support@atende.test", subject="Printer broken",
             body="My printer does not print.", message_id="<m1@customer.example>", headers=None, cc=None) -> bytes:
    lines = [f"From: Ana Souza <{sender}>", f"To: {to}", f"Subject: {subject}", f"Message-ID: {message_id}",
             "Date: Mon, 01 Jan 2024 10:00:00 +0000", "MIME-Version: 1.0",
             "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    if cc:
        lines.append(f"Cc: {cc}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode("utf-8")
