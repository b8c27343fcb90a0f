"""``atende serve`` gives the links in emails the address it serves on unless ``SITE_URL`` says otherwise, and says
at start-up where links point (a warning when it listens on every address and cannot know the name people use)."""

import http.cookiejar
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from atende.core.management.commands.serve import site_url_for
from atende.core.testing.migrated import migrated_database
from atende.email_channel.tests.servers import CaptureHandler, free_port


@pytest.mark.parametrize(("host", "environ", "url", "warns"), [
    ("127.0.0.1", {}, "http://127.0.0.1:8123", False),
    ("help.internal", {}, "http://help.internal:8123", False),
    ("::1", {}, "http://[::1]:8123", False),
    ("0.0.0.0", {}, "http://127.0.0.1:8123", True),
    ("::", {}, "http://127.0.0.1:8123", True),
    ("0.0.0.0", {"SITE_URL": "https://help.example.com"}, None, False),
    ("127.0.0.1", {"SITE_URL": ""}, "http://127.0.0.1:8123", False),  # empty counts as unset
])
def test_site_url_follows_the_serving_address(host, environ, url, warns):
    derived, notice = site_url_for(host, 8123, environ)
    assert derived == url
    assert notice.startswith("WARNING") == warns
    assert (url or environ["SITE_URL"]) in notice
    if warns:
        assert "Set SITE_URL" in notice


@pytest.mark.slow
def test_emails_link_to_the_port_the_server_runs_on(tmp_path):
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
    subprocess.run([sys.executable, "-c", "import django; django.setup(); "
                    "from atende.accounts.services import user_create; "
                    "user_create(email='ana@customer.example', name='Ana', role='customer', email_verified=True)"],
                   env=env, check=True, timeout=60, cwd=tmp_path)
    server = subprocess.Popen([atende, "serve", "--port", str(web_port)], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{web_port}"
    try:
        assert f"Links in emails point to {base}" in server.stdout.readline() + server.stdout.readline()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        deadline = time.monotonic() + 120  # start-up on a loaded machine (two test workers on two cores)
        while True:
            try:
                page = opener.open(f"{base}/accounts/magic-link/", timeout=2).read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "email": "ana@customer.example"}).encode()
        opener.open(urllib.request.Request(f"{base}/accounts/magic-link/", data=form,
                                           headers={"Referer": f"{base}/accounts/magic-link/"}), timeout=10)
        deadline = time.monotonic() + 120  # the worker's pass on a loaded machine (two test workers on two cores)
        while not smtp.received and time.monotonic() < deadline:  # sent by the worker inside the server
            time.sleep(0.2)
        body = smtp.received[0].message.get_payload(decode=False)
        text = body if isinstance(body, str) else body[0].get_payload(decode=True).decode()
        assert f"{base}/accounts/magic-link/" in text
        assert "127.0.0.1:8000" not in text
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        controller.stop()
