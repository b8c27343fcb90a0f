"""Thirty password-reset requests for one address at once, against a real server process (uvicorn, its own
SQLite file in WAL mode, requests on parallel connections): exactly one email leaves, and every request gets the
same answer, for an address with an account and for one without."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from atende.core.testing.migrated import migrated_database

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]

SETUP = """
from atende.accounts.services import user_create
user_create(email="carla@cliente.example", password="secret-pass-1", role="customer")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var = tmp_path_factory.mktemp("flood")
    mail_dir = var / "mail"
    mail_dir.mkdir()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "atende.signin.tests.server_settings", "ATENDE_VAR_DIR": str(var),
           "DATABASE_URL": f"sqlite:///{var / 'flood.sqlite3'}", "SECRET_KEY": "flood-test", "REDIS_URL": "",
           "ATENDE_TEST_MAIL_DIR": str(mail_dir), "THROTTLE_AUTH_EMAIL_IP": "1000/15m"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    migrated_database(env, seed=SETUP)
    port = _free_port()
    log = open(var / "uvicorn.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "atende.config.asgi:application", "--host", "127.0.0.1",
                             "--port", str(port), "--lifespan", "off", "--no-access-log"],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # start-up on a loaded machine (two test workers on two cores)
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((var / "uvicorn.log").read_text()[-2000:])
                time.sleep(0.2)
        yield base, mail_dir
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _reset_request(base: str, email: str) -> tuple[int, str, str]:
    with httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/accounts/password-reset/")
        token = client.cookies["csrftoken"]
        response = client.post("/accounts/password-reset/", data={"email": email, "csrfmiddlewaretoken": token},
                               headers={"Referer": f"{base}/accounts/password-reset/"})
        assert page.status_code == 200
        return response.status_code, response.headers.get("location", ""), response.text


@pytest.mark.parametrize("email", ["carla@cliente.example", "nobody@cliente.example"])
def test_thirty_simultaneous_reset_requests_send_one_email_and_answer_alike(server, email):
    base, mail_dir = server
    before = {p.name for p in mail_dir.iterdir()}
    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = list(pool.map(lambda _n: _reset_request(base, email), range(30)))
    assert {a[:2] for a in answers} == {(302, "/accounts/password-reset/done/")}
    time.sleep(0.5)
    sent = [p for p in mail_dir.iterdir() if p.name not in before]
    messages = "".join(p.read_text() for p in sent)
    expected = 1 if email.startswith("carla") else 0
    assert messages.count(f"To: {email}") == expected
