"""Second factors end to end through the pages: enrol an authenticator app, sign in with it, replayed and wrong
codes, recovery codes, removal behind the password, the staff requirement, and an administrator's reset."""

import re
import time

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from atende.accounts.tests.factories import AdminFactory, AgentFactory, CustomerFactory
from atende.api.tests.conftest import ApiClient, token_for
from atende.audit.choices import AuditAction
from atende.audit.models import AuditEntry
from atende.signin.models import SecurityPolicy, SignInSession
from atende.signin.tests.helpers import totp_code

PASSWORD = "secret-pass-1"


def login(client, user, ip="192.0.2.10"):
    return client.post("/accounts/login/", {"username": user.email, "password": PASSWORD}, REMOTE_ADDR=ip)


def enrol(client, user) -> tuple[TOTPDevice, list[str]]:
    """Through the Security page, as a person would: open the set-up, scan, type the code."""
    page = client.get("/accounts/security/totp/")
    assert page.status_code == 200 and 'src="/accounts/security/totp/qr.svg"' in page.content.decode()
    qr = client.get("/accounts/security/totp/qr.svg")
    assert qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.content.decode()).group(1).replace(" ", "")
    assert len(secret) >= 32
    done = client.post("/accounts/security/totp/", {"code": totp_code(device)})
    codes = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code>", done.content.decode())
    device.refresh_from_db()
    return device, codes


@pytest.fixture
def agent_with_totp(db):
    agent = AgentFactory(email="totp@atende.test")
    client = Client()
    login(client, agent)
    device, codes = enrol(client, agent)
    return agent, device, codes


def test_enrolment_shows_a_qr_code_confirms_with_a_code_and_gives_ten_recovery_codes(agent_with_totp):
    agent, device, codes = agent_with_totp
    assert device.confirmed and len(codes) == 10 and len(set(codes)) == 10
    actions = list(AuditEntry.objects.filter(subject=agent).values_list("action", flat=True))
    assert AuditAction.MFA_DEVICE_ADDED in actions and AuditAction.RECOVERY_CODES_CREATED in actions


def test_a_wrong_code_does_not_confirm_the_authenticator(client, db):
    agent = AgentFactory()
    login(client, agent)
    client.get("/accounts/security/totp/")
    response = client.post("/accounts/security/totp/", {"code": "000000"})
    assert "not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=agent, confirmed=True).exists()


def test_sign_in_asks_for_the_code_and_only_then_signs_in(agent_with_totp):
    agent, device, _codes = agent_with_totp
    client = Client()
    response = login(client, agent)
    assert response.status_code == 302 and response.url == "/accounts/login/verify/"
    assert client.get("/accounts/profile/").status_code == 302  # not signed in yet
    assert client.get("/admin/").status_code == 302
    response = client.post("/accounts/login/verify/", {"code": totp_code(device, at=time.time() + 30)})
    assert response.status_code == 302
    assert client.get("/accounts/profile/").status_code == 200
    assert SignInSession.objects.filter(user=agent, second_factor="totp").exists()


def test_a_replayed_code_is_refused(agent_with_totp):
    agent, device, _codes = agent_with_totp
    code = totp_code(device, at=time.time() + 30)
    first = Client()
    login(first, agent)
    assert first.post("/accounts/login/verify/", {"code": code}).status_code == 302
    second = Client()
    login(second, agent)
    response = second.post("/accounts/login/verify/", {"code": code})
    assert response.status_code == 200 and "already used" in response.content.decode()
    assert AuditEntry.objects.filter(action=AuditAction.MFA_FAILED, subject=agent).count() == 1


def test_a_recovery_code_works_once(agent_with_totp):
    agent, _device, codes = agent_with_totp
    client = Client()
    login(client, agent)
    assert client.post("/accounts/login/verify/", {"code": codes[3].upper()}).status_code == 302
    again = Client()
    login(again, agent)
    assert again.post("/accounts/login/verify/", {"code": codes[3]}).status_code == 200
    assert AuditEntry.objects.get(action=AuditAction.RECOVERY_CODE_USED).data["left"] == 9


def test_wrong_codes_are_throttled_then_even_a_right_one_waits(agent_with_totp):
    agent, device, _codes = agent_with_totp
    client = Client()
    login(client, agent)
    for _ in range(5):
        assert client.post("/accounts/login/verify/", {"code": "123456"}).status_code == 200
    response = client.post("/accounts/login/verify/", {"code": totp_code(device, at=time.time() + 30)})
    assert response.status_code == 429 and "Too many wrong codes" in response.content.decode()
    assert client.get("/accounts/profile/").status_code == 302


@pytest.mark.parametrize("code", ["", " ", "12345", "1234567", "abc", "x" * 40, "' OR 1=1 --", "١٢٣٤٥٦"])
def test_malformed_codes_are_form_errors(agent_with_totp, code):
    agent, _device, _codes = agent_with_totp
    client = Client()
    login(client, agent)
    assert client.post("/accounts/login/verify/", {"code": code}).status_code == 200


def test_removing_an_authenticator_needs_the_password(agent_with_totp):
    agent, device, _codes = agent_with_totp
    client = Client()
    client.force_login(agent)
    url = f"/accounts/security/devices/totp/{device.pk}/remove/"
    client.post(url, {"password": "not-mine"})
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    client.post(url, {"password": PASSWORD})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert AuditEntry.objects.filter(action=AuditAction.MFA_DEVICE_REMOVED, subject=agent).exists()
    assert login(Client(), agent).url == "/"  # no second factor any more


def test_required_two_factor_leads_staff_through_set_up_before_the_console(db):
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"require_mfa_for_staff": True})
    agent, customer = AgentFactory(), CustomerFactory()
    client = Client()
    response = login(client, agent)
    assert response.url == "/accounts/login/setup/"
    assert client.get("/console/").status_code == 302  # not in yet
    page = client.get("/accounts/login/setup/")
    assert page.status_code == 200 and client.get("/accounts/login/setup/qr.svg").status_code == 200
    device = TOTPDevice.objects.get(user=agent, confirmed=False)
    done = client.post("/accounts/login/setup/", {"code": totp_code(device)})
    assert done.status_code == 200 and len(re.findall(r"<code>", done.content.decode())) == 10
    assert client.get("/console/").status_code == 200
    assert login(Client(), customer).status_code == 302  # customers are not asked


def test_an_admin_reset_removes_every_factor_ends_sessions_and_is_logged(agent_with_totp):
    agent, device, codes = agent_with_totp
    signed_in = Client()
    login(signed_in, agent)
    signed_in.post("/accounts/login/verify/", {"code": totp_code(device, at=time.time() + 30)})
    assert signed_in.get("/accounts/profile/").status_code == 200
    admin = AdminFactory()
    admin_client = Client()
    admin_client.force_login(admin)
    response = admin_client.post(f"/console/security/people/{agent.pk}/reset-second-factor/",
                                 {"reason": "lost phone"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=agent).exists()
    assert signed_in.get("/accounts/profile/").status_code == 302  # that session ended
    entry = AuditEntry.objects.get(action=AuditAction.MFA_RESET)
    assert (entry.actor, entry.subject, entry.data["reason"]) == (admin, agent, "lost phone")
    assert entry.data["sessions_ended"] >= 1


def test_only_admins_reset_second_factors(agent_with_totp, client):
    agent, _device, _codes = agent_with_totp
    client.force_login(AgentFactory())
    assert client.post(f"/console/security/people/{agent.pk}/reset-second-factor/").status_code == 404
    assert TOTPDevice.objects.filter(user=agent).exists()


def test_api_tokens_are_not_asked_for_a_second_factor(agent_with_totp):
    agent, _device, _codes = agent_with_totp
    assert ApiClient(token_for(agent, "read")).get("/me").status_code == 200
