"""Sessions: listed on Profile › Security with device, IP and last seen; ended one by one; all others ended by a
password change; the policy's idle timeout and lifetime; and the optional breached-password check."""

import datetime
import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from django.utils import timezone

from atende.accounts.tests.factories import AgentFactory
from atende.audit.choices import AuditAction
from atende.audit.models import AuditEntry
from atende.signin.models import SecurityPolicy, SignInSession
from atende.signin.services.sessions import SEEN_KEY

PASSWORD = "secret-pass-1"


def browser(user, *, agent: str, ip: str) -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    assert client.post("/accounts/login/", {"username": user.email, "password": PASSWORD},
                       REMOTE_ADDR=ip).status_code == 302
    return client


def test_sessions_are_listed_and_one_can_be_ended(db):
    agent = AgentFactory()
    laptop = browser(agent, agent="Firefox on Linux", ip="192.0.2.1")
    phone = browser(agent, agent="Safari on iPhone", ip="198.51.100.2")
    page = laptop.get("/accounts/security/").content.decode()
    assert "Firefox on Linux" in page and "Safari on iPhone" in page and "198.51.100.2" in page
    assert page.count("(this browser)") == 1
    phone_session = SignInSession.objects.get(user=agent, user_agent="Safari on iPhone")
    laptop.post(f"/accounts/security/sessions/{phone_session.pk}/end/")
    assert phone.get("/accounts/profile/").status_code == 302
    assert laptop.get("/accounts/profile/").status_code == 200
    phone_session.refresh_from_db()
    assert phone_session.ended_reason == "ended_by_user"
    assert AuditEntry.objects.filter(action=AuditAction.SESSION_ENDED, subject=agent).exists()


def test_nobody_ends_another_persons_session(db):
    agent, other = AgentFactory(), AgentFactory()
    browser(agent, agent="A", ip="192.0.2.1")
    theirs = SignInSession.objects.get(user=agent)
    intruder = browser(other, agent="B", ip="192.0.2.2")
    intruder.post(f"/accounts/security/sessions/{theirs.pk}/end/")
    theirs.refresh_from_db()
    assert theirs.ended_at is None


def test_a_password_change_keeps_this_browser_and_ends_the_others(db):
    agent = AgentFactory()
    here = browser(agent, agent="Here", ip="192.0.2.1")
    there = browser(agent, agent="There", ip="192.0.2.2")
    bad = here.post("/accounts/security/password/", {"old_password": "wrong", "new_password": "Longer-pass-42",
                                                     "new_password_again": "Longer-pass-42"})
    assert bad.status_code == 400 and there.get("/accounts/profile/").status_code == 200
    weak = here.post("/accounts/security/password/", {"old_password": PASSWORD, "new_password": "password",
                                                      "new_password_again": "password"})
    assert weak.status_code == 400 and "too common" in weak.content.decode()
    response = here.post("/accounts/security/password/", {"old_password": PASSWORD, "new_password": "Longer-pass-42",
                                                          "new_password_again": "Longer-pass-42"})
    assert response.status_code == 302
    assert here.get("/accounts/profile/").status_code == 200
    assert there.get("/accounts/profile/").status_code == 302
    assert list(SignInSession.objects.filter(user=agent, ended_at__isnull=True).values_list("user_agent", flat=True)) == ["Here"]
    assert AuditEntry.objects.get(action=AuditAction.PASSWORD_CHANGED).data["sessions_ended"] == 1


def _age(client, *, minutes: int):
    session = client.session
    session[SEEN_KEY] = (timezone.now() - datetime.timedelta(minutes=minutes)).timestamp()
    session.save()


def test_the_idle_timeout_ends_a_quiet_session(db):
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"session_idle_minutes": 30})
    agent = AgentFactory()
    client = browser(agent, agent="A", ip="192.0.2.1")
    _age(client, minutes=20)
    assert client.get("/accounts/profile/").status_code == 200  # 20 minutes idle: fine, and noted
    _age(client, minutes=31)
    response = client.get("/accounts/profile/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert SignInSession.objects.get(user=agent).ended_reason == "idle"


def test_the_lifetime_ends_a_session_however_busy(db):
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"session_lifetime_hours": 1, "session_idle_minutes": 0})
    agent = AgentFactory()
    client = browser(agent, agent="A", ip="192.0.2.1")
    assert client.session.get_expiry_age() == 3600  # the cookie itself expires with the lifetime
    SignInSession.objects.filter(user=agent).update(created_at=timezone.now() - datetime.timedelta(hours=2))
    _age(client, minutes=2)
    assert client.get("/accounts/profile/").status_code == 302
    assert SignInSession.objects.get(user=agent).ended_reason == "expired"


class _RangeApi(BaseHTTPRequestHandler):
    """A stand-in for the breached-password range service: knows the hashes of ``BREACHED``."""

    BREACHED = ["correct-horse-battery-staple-9"]
    requests: list[str] = []

    def do_GET(self):  # noqa: N802
        prefix = self.path.rsplit("/", 1)[-1]
        _RangeApi.requests.append(prefix)
        lines = ["0018A45C4D1DEF81644B54AB7F969B88D65:1"]  # padding-like noise
        for password in self.BREACHED:
            digest = hashlib.sha1(password.encode()).hexdigest().upper()
            if digest.startswith(prefix):
                lines.append(f"{digest[5:]}:37")
        body = "\r\n".join(lines).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def range_api(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RangeApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.ATENDE_BREACHED_PASSWORD_API = f"http://127.0.0.1:{server.server_address[1]}/range"
    _RangeApi.requests.clear()
    yield _RangeApi
    server.shutdown()
    server.server_close()


def _change(client, new):
    return client.post("/accounts/security/password/", {"old_password": PASSWORD, "new_password": new,
                                                        "new_password_again": new})


def test_breached_passwords_are_refused_only_when_the_admin_turns_the_check_on(db, range_api):
    agent = AgentFactory()
    client = browser(agent, agent="A", ip="192.0.2.1")
    assert _change(client, "correct-horse-battery-staple-9").status_code == 302  # off by default: not asked
    assert range_api.requests == []
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"breached_password_check": True})
    agent.set_password(PASSWORD)
    agent.save()
    client = browser(agent, agent="A", ip="192.0.2.1")
    refused = _change(client, "correct-horse-battery-staple-9")
    assert refused.status_code == 400 and "data breach" in refused.content.decode()
    assert range_api.requests and all(len(p) == 5 for p in range_api.requests)  # only the prefix left
    assert _change(client, "an-unbreached-passphrase-31").status_code == 302


def test_an_unreachable_breach_service_does_not_block_passwords(db, settings):
    settings.ATENDE_BREACHED_PASSWORD_API = "http://127.0.0.1:9/range"  # nothing listens on the discard port
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"breached_password_check": True})
    agent = AgentFactory()
    client = browser(agent, agent="A", ip="192.0.2.1")
    assert _change(client, "correct-horse-battery-staple-9").status_code == 302
