"""`atende serve` (web, worker and scheduler in one process) delivers what the engine queues: a ticket event's
webhook to a real receiver on loopback and a queued mail to a real SMTP server."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from atende.core.testing.migrated import migrated_database
from atende.email_channel.tests.servers import CaptureHandler, free_port
from atende.integrations.signing import webhook_signature_verify
from atende.integrations.tests.conftest import receiver  # noqa: F401 - real HTTP receiver on loopback

SETUP = """
import django; django.setup()
from atende.accounts.services import user_create
from atende.core.actor import Actor
from atende.email_channel.services import mail_queue
from atende.integrations.services import webhook_subscription_create
from atende.tickets.services import ticket_create
sub = webhook_subscription_create(actor=Actor.system(), name="CRM", url={url!r}, event_types=["ticket.created"])
print(sub.secret)
ana = user_create(email="ana@customer.example", name="Ana", role="customer", email_verified=True)
ticket_create(actor=Actor.for_user(ana), requester=ana, subject="Printer on fire", body_text="Help")
mail_queue(to=["boss@example.com"], subject="Weekly report", body_text="Attached.",
           files=[("report.csv", b"a,b\\n", "text/csv")])
"""


@pytest.mark.slow
def test_serve_sends_queued_webhooks_and_mail(tmp_path, receiver):  # noqa: F811
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "atende").exists():
        pytest.skip("the project is not installed in this environment")
    smtp = CaptureHandler()
    smtp_port, web_port = free_port(), free_port()
    controller = Controller(smtp, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    env = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env |= {"DJANGO_SETTINGS_MODULE": "atende.config.settings.dev", "DEBUG": "0", "ATENDE_VAR_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}", "SECRET_KEY": secrets.token_urlsafe(50),
            "REDIS_URL": "", "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_port)}
    atende = str(bin_dir / "atende")
    migrated_database(env)
    secret = subprocess.run([sys.executable, "-c", SETUP.format(url=receiver.url)], env=env, check=True,
                            timeout=60, cwd=tmp_path, capture_output=True, text=True).stdout.split()[0]
    assert receiver.requests == [] and smtp.received == []  # queued, nothing sent without a worker
    server = subprocess.Popen([atende, "serve", "--port", str(web_port)], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
                receiver.requests and any(m.message["Subject"] == "Weekly report" for m in smtp.received)):
            time.sleep(0.2)
        [hook] = receiver.requests
        assert json.loads(hook.body)["ticket"]["subject"] == "Printer on fire"
        assert webhook_signature_verify(secret, hook.headers["X-Atende-Signature"], hook.body)
        [report] = [m for m in smtp.received if m.message["Subject"] == "Weekly report"]
        assert report.rcpt_tos == ["boss@example.com"]
        assert [p.get_filename() for p in report.message.walk() if p.get_filename()] == ["report.csv"]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        controller.stop()
