"""Start and stop the test OpenID Connect provider (a process of its own on a free loopback port)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
USERS = ["ana", "grouped", "wrong_aud", "wrong_iss", "bad_nonce", "expired", "bad_sig", "unverified", "disabled",
         "newcomer", "customer"]
PASSWORD = "idp-pass-1"
CLIENT_ID, CLIENT_SECRET = "atende", "atende-client-secret"

SETUP = f"""
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
call_command("creatersakey")
from django.contrib.auth.models import User
from oidc_provider.models import Client, ResponseType
for name in {USERS!r}:
    User.objects.create_user(username=name, email=f"{{name}}@idp.test", password={PASSWORD!r})
client = Client.objects.create(name="Atende", client_id={CLIENT_ID!r}, client_secret={CLIENT_SECRET!r},
                               client_type="confidential", jwt_alg="RS256", require_consent=False,
                               reuse_consent=True, _redirect_uris="http://testserver/accounts/oidc/idp/callback/")
client.response_types.set([ResponseType.objects.get(value="code")])
"""

ADD_REDIRECT = """
import django, sys
django.setup()
from oidc_provider.models import Client
client = Client.objects.get(client_id=sys.argv[1])
client._redirect_uris = client._redirect_uris + "\\n" + sys.argv[2]
client.save()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class OidcProvider:
    issuer: str
    env: dict
    process: subprocess.Popen

    def allow_redirect(self, uri: str) -> None:
        subprocess.run([sys.executable, "-c", ADD_REDIRECT, CLIENT_ID, uri], env=self.env, cwd=ROOT, check=True,
                       timeout=60)


def start(directory: Path) -> OidcProvider:
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "atende.signin.tests.oidc_idp.settings",
           "IDP_DATABASE": str(directory / "idp.sqlite3"), "IDP_SITE_URL": site}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=ROOT, check=True, timeout=120)
    log = open(directory / "idp.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
                               env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120  # start-up on a loaded machine (two test workers on two cores)
    while True:
        try:
            urllib.request.urlopen(f"{site}/openid/.well-known/openid-configuration", timeout=1)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((directory / "idp.log").read_text()[-3000:])
            time.sleep(0.2)
    return OidcProvider(issuer=f"{site}/openid", env=env, process=process)


def stop(provider: OidcProvider) -> None:
    provider.process.terminate()
    try:
        provider.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        provider.process.kill()
