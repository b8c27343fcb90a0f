"""Re-entering the password before a sensitive change (a new password, removing a second factor) is throttled
like sign-in: someone holding a stolen session cannot use these forms to guess the password."""

from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from atende.accounts.tests.factories import AgentFactory
from atende.audit.choices import AuditAction
from atende.audit.models import AuditEntry

PASSWORD = "secret-pass-1"
NEW = "Another-passphrase-9"


def test_wrong_current_passwords_lock_the_account_like_failed_sign_ins(db):
    agent = AgentFactory(email="rita@atende.test")
    device = TOTPDevice.objects.create(user=agent, name="Phone", confirmed=True)
    thief = Client()
    thief.force_login(agent)
    for guess in ("guess-one-1", "guess-two-2", "guess-three-3"):
        response = thief.post("/accounts/security/password/", {"old_password": guess, "new_password": NEW,
                                                               "new_password_again": NEW}, REMOTE_ADDR="192.0.2.9")
        assert response.status_code == 400 and "current password is not right" in response.content.decode()
    for guess in ("guess-four-4", "guess-five-5"):
        thief.post(f"/accounts/security/devices/totp/{device.pk}/remove/", {"password": guess})
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    # The sixth try is refused before the password is looked at, even the right one.
    response = thief.post("/accounts/security/password/", {"old_password": PASSWORD, "new_password": NEW,
                                                           "new_password_again": NEW}, REMOTE_ADDR="192.0.2.9")
    assert response.status_code == 400 and "Too many wrong passwords" in response.content.decode()
    thief.post(f"/accounts/security/devices/totp/{device.pk}/remove/", {"password": PASSWORD})
    agent.refresh_from_db()
    assert agent.check_password(PASSWORD) and TOTPDevice.objects.filter(pk=device.pk).exists()
    # The same limit as sign-in: the account is locked there too.
    locked = Client().post("/accounts/login/", {"username": agent.email, "password": PASSWORD})
    assert locked.status_code == 429
    failed = AuditEntry.objects.filter(action=AuditAction.SIGNIN_FAILED, subject=agent, data__step="reconfirm")
    assert failed.count() == 5 and failed.filter(ip="192.0.2.9").count() == 3
    assert AuditEntry.objects.filter(action=AuditAction.SIGNIN_REFUSED, subject=agent,
                                     data__step="reconfirm").count() == 2


def test_the_right_password_still_changes_it(db):
    agent = AgentFactory()
    client = Client()
    client.force_login(agent)
    client.post("/accounts/security/password/", {"old_password": "wrong-guess-1", "new_password": NEW,
                                                 "new_password_again": NEW})
    response = client.post("/accounts/security/password/", {"old_password": PASSWORD, "new_password": NEW,
                                                            "new_password_again": NEW})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.check_password(NEW)
    assert AuditEntry.objects.filter(action=AuditAction.PASSWORD_CHANGED, subject=agent).exists()
