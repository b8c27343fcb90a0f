"""Password sign-in: success, failures counted per account and per IP, the lock with its message and email,
staff held to single sign-on when the policy says so (except the break-glass administrator)."""

import pytest
from django.core import mail

from atende.accounts.tests.factories import AdminFactory, AgentFactory, CustomerFactory
from atende.audit.choices import AuditAction
from atende.audit.models import AuditEntry
from atende.core.models import ThrottleBucket
from atende.signin.models import SecurityPolicy, SignInSession, SsoProvider

PASSWORD = "secret-pass-1"


def post_login(client, email, password, ip="192.0.2.10"):
    return client.post("/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_a_right_password_signs_in_records_the_session_and_the_audit_entry(client, db):
    agent = AgentFactory(email="rafa@atende.test")
    response = post_login(client, "Rafa@Atende.test", PASSWORD)
    assert response.status_code == 302
    assert client.get("/accounts/profile/").status_code == 200
    record = SignInSession.objects.get(user=agent)
    assert record.method == "password" and record.ip == "192.0.2.10" and record.ended_at is None
    entry = AuditEntry.objects.get(action=AuditAction.SIGNIN_SUCCEEDED)
    assert entry.subject == agent and entry.ip == "192.0.2.10"


def test_repeated_failures_lock_the_account_with_a_clear_message_and_an_email_to_its_owner(
        client, db, django_capture_on_commit_callbacks):
    agent = AgentFactory(email="ana@atende.test")
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            response = post_login(client, agent.email, "wrong-guess")
        assert response.status_code == 200 and "not right" in response.content.decode()
    assert [m.to for m in mail.outbox] == [["ana@atende.test"]]  # told once, when the lock started
    assert "blocked" in mail.outbox[0].subject and "192.0.2.10" in mail.outbox[0].body
    # Locked: even the right password is not looked at, from any address.
    with django_capture_on_commit_callbacks(execute=True):
        response = post_login(client, agent.email, PASSWORD, ip="198.51.100.99")
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode() and "minute" in response.content.decode()
    assert not SignInSession.objects.exists()
    assert AuditEntry.objects.filter(action=AuditAction.SIGNIN_FAILED, subject=agent).count() == 5
    assert AuditEntry.objects.filter(action=AuditAction.ACCOUNT_LOCKED, subject=agent).count() == 1
    assert AuditEntry.objects.filter(action=AuditAction.SIGNIN_REFUSED, subject=agent).count() == 1
    assert ThrottleBucket.objects.get(scope="signin.account", subject="ana@atende.test", refused__gt=0).refused == 1
    assert len(mail.outbox) == 1


def test_unknown_addresses_are_counted_and_answered_like_known_ones(client, db):
    for _ in range(5):
        assert "not right" in post_login(client, "ghost@example.com", "x").content.decode()
    assert post_login(client, "ghost@example.com", "x").status_code == 429
    assert mail.outbox == []


def test_one_address_trying_many_accounts_is_stopped_per_ip(client, db, settings):
    settings.ATENDE_THROTTLE_RATES = {**settings.ATENDE_THROTTLE_RATES, "signin.ip": "3/15m"}
    CustomerFactory(email="real@example.com")
    for n in range(3):
        post_login(client, f"user{n}@example.com", "x", ip="203.0.113.7")
    assert post_login(client, "real@example.com", PASSWORD, ip="203.0.113.7").status_code == 429
    assert post_login(client, "real@example.com", PASSWORD, ip="203.0.113.8").status_code == 302


def test_a_success_clears_the_accounts_failures(client, db):
    agent = AgentFactory()
    for _ in range(4):
        post_login(client, agent.email, "nope")
    assert post_login(client, agent.email, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert post_login(client, agent.email, "nope").status_code == 200
    assert post_login(client, agent.email, PASSWORD).status_code == 302


def test_disabled_accounts_cannot_sign_in(client, db):
    agent = AgentFactory(is_active=False)
    assert "not right" in post_login(client, agent.email, PASSWORD).content.decode()
    assert AuditEntry.objects.get(action=AuditAction.SIGNIN_FAILED).data["reason"] == "inactive"


def test_mandatory_sso_refuses_staff_passwords_except_the_break_glass_admin(client, db):
    admin, agent, customer = AdminFactory(), AgentFactory(), CustomerFactory()
    SsoProvider.objects.create(kind="oidc", name="Okta", slug="okta", issuer="https://okta.example",
                               client_id="x")
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"sso_required_for_staff": True,
                                                            "break_glass_user": admin})
    response = post_login(client, agent.email, PASSWORD)
    assert response.status_code == 200 and "single sign-on" in response.content.decode()
    assert "/accounts/oidc/okta/login/" in response.content.decode()
    assert AuditEntry.objects.get(action=AuditAction.SIGNIN_REFUSED).data["reason"] == "sso_required"
    assert post_login(client, customer.email, PASSWORD).status_code == 302
    client.logout()
    assert post_login(client, admin.email, PASSWORD).status_code == 302


@pytest.mark.parametrize("path", ["/admin/", "/admin/accounts/user/"])
def test_the_django_admin_signs_in_through_the_products_page(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    login = client.get(response.url)
    assert login.status_code == 302 and login.url.startswith("/accounts/login/")


@pytest.mark.parametrize("body", [{}, {"username": "not-an-email", "password": "x"}, {"username": "a@b.c"},
                                  {"username": "a@b.c" * 100, "password": "x"}, {"password": "x" * 5000}])
def test_malformed_sign_in_forms_get_form_errors_not_500s(client, db, body):
    assert client.post("/accounts/login/", body).status_code == 200
