"""A webhook fires from an installed ``atende serve``: the server (with its embedded worker) is a subprocess, a
ticket is opened through the REST API, and the signed POST reaches a real HTTP receiver on loopback."""

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from atende.core.testing.migrated import migrated_database
from atende.email_channel.tests.servers import free_port
from atende.integrations.signing import SIGNATURE_HEADER, webhook_signature_verify

SETUP = """
import django; django.setup()
from atende.accounts.services import user_create
from atende.api.services import api_token_create
from atende.core.actor import Actor
from atende.integrations.services import webhook_subscription_create
admin = user_create(email="admin@desk.example", name="Admin", role="admin", email_verified=True)
actor = Actor.for_user(admin)
webhook_subscription_create(actor=actor, name="Receiver", url={url!r}, event_types=["ticket.created"],
                            secret="s3cret-for-the-test")
print(api_token_create(actor=actor, user=admin, name="test", scope="write")[1])
"""


@pytest.mark.slow
def test_a_ticket_opened_through_the_api_fires_the_webhook(tmp_path, receiver):
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "atende").exists():
        pytest.skip("the project is not installed in this environment")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env |= {"DJANGO_SETTINGS_MODULE": "atende.config.settings.dev", "DEBUG": "0", "ATENDE_VAR_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}", "SECRET_KEY": secrets.token_urlsafe(50),
            "REDIS_URL": ""}
    atende = str(bin_dir / "atende")
    migrated_database(env)
    token = subprocess.run([sys.executable, "-c", SETUP.format(url=receiver.url)], env=env, check=True, timeout=60,
                           cwd=tmp_path, capture_output=True, text=True).stdout.split()[-1]
    server = subprocess.Popen([atende, "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # start-up on a loaded machine (two test workers on two cores)
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
                break
            except OSError:
                assert server.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        request = urllib.request.Request(
            f"{base}/api/v1/tickets", method="POST",
            data=json.dumps({"subject": "Printer on fire", "body": "Third floor.",
                             "requester_email": "ana@customer.example"}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            number = json.loads(response.read())["number"]
        deadline = time.monotonic() + 20
        while not receiver.requests and time.monotonic() < deadline:  # sent by the worker inside the server
            time.sleep(0.1)
        assert receiver.requests, "no webhook arrived"
        hook = receiver.requests[0]
        payload = json.loads(hook.body)
        assert hook.headers["X-Atende-Event"] == "ticket.created"
        assert payload["ticket"]["number"] == number
        assert payload["ticket"]["subject"] == "Printer on fire"
        assert webhook_signature_verify("s3cret-for-the-test", hook.headers[SIGNATURE_HEADER], hook.body)
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
