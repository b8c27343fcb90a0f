"""In headless Chromium: an agent turns on an authenticator app and signs in with it; an agent signs in through a
real OpenID Connect provider and back."""

import base64
import re
import time

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from atende.accounts.tests.factories import AgentFactory
from atende.signin.models import SignInSession, SsoProvider
from atende.signin.tests.oidc_idp.server import CLIENT_ID, CLIENT_SECRET
from atende.signin.tests.oidc_idp.server import PASSWORD as IDP_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "secret-pass-1"


def app_code(secret: str, *, at: float) -> str:
    """What the phone's authenticator app shows for the secret typed from the page."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key, 30, 0, 6, 0)
    totp.time = at
    return f"{totp.token():06d}"


def password_login(page, base, email):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].primary")


def test_agent_turns_on_an_authenticator_app_and_signs_in_with_it(live_server, page):
    agent = AgentFactory(email="tina@atende.test", name="Tina Totp")
    base = live_server.url
    password_login(page, base, agent.email)
    page.wait_for_url(re.compile(r".*/console/.*"))
    page.goto(f"{base}/accounts/profile/")
    page.click("#security-link")
    page.click("#add-totp")
    page.wait_for_function("() => { const img = document.getElementById('totp-qr');"
                           " return img.complete && img.naturalWidth > 100; }")
    secret = page.inner_text("#totp-secret").replace(" ", "")
    page.fill("#id_code", app_code(secret, at=time.time()))
    page.click("button[type=submit].primary")
    expect(page.locator("#recovery-codes code")).to_have_count(10)  # the click's page load is waited for
    page.click("text=I have saved them")
    page.wait_for_selector("#second-factors >> text=Authenticator app")

    page.click("header form button:has-text('Log out')")
    password_login(page, base, agent.email)
    page.wait_for_selector("#mfa-verify")
    page.fill("#id_code", "000000")
    page.click("#mfa-verify button[type=submit].primary")
    page.wait_for_selector("#mfa-verify .errorlist")
    page.fill("#id_code", app_code(secret, at=time.time() + 30))
    page.click("#mfa-verify button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/console/.*"))
    assert SignInSession.objects.filter(user=agent, second_factor="totp", ended_at__isnull=True).count() == 1


def test_agent_signs_in_through_an_openid_connect_provider(live_server, page, oidc_idp):
    agent = AgentFactory(email="ana@idp.test")
    SsoProvider.objects.create(kind="oidc", name="Company SSO", slug="idp", issuer=oidc_idp.issuer,
                               client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    oidc_idp.allow_redirect(f"{live_server.url}/accounts/oidc/idp/callback/")
    page.goto(f"{live_server.url}/accounts/login/?next=/console/")
    page.click("text=Company SSO")
    page.wait_for_selector("#idp-username")
    page.fill("#idp-username", "ana")
    page.fill("#idp-password", IDP_PASSWORD)
    page.click("#idp-submit")
    page.wait_for_url(f"{live_server.url}/console/")
    assert agent.display_name in page.inner_text("header")
    assert SignInSession.objects.get(user=agent).method == "oidc"


def test_agent_adds_a_passkey_and_signs_in_with_it(live_server, page):
    """Chromium's virtual authenticator (DevTools WebAuthn domain) plays the security key: the real browser
    WebAuthn calls, the page's script and the server's checks all run."""
    agent = AgentFactory(email="pia@atende.test")
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    base = live_server.url
    password_login(page, base, agent.email)
    page.wait_for_url(re.compile(r".*/console/.*"))
    page.goto(f"{base}/accounts/security/")
    page.fill("#passkey-name", "Work laptop")
    page.click("[data-passkey-register]")
    codes = page.locator("#recovery-codes code")
    codes.first.wait_for()
    assert codes.count() == 10
    assert agent.passkeys.get().name == "Work laptop"

    page.click("header form button:has-text('Log out')")
    password_login(page, base, agent.email)
    page.wait_for_selector("#mfa-verify")
    page.click("[data-passkey-signin]")
    page.wait_for_url(re.compile(r".*/console/.*"))
    assert SignInSession.objects.filter(user=agent, second_factor="passkey", ended_at__isnull=True).exists()
    assert agent.passkeys.get().last_used_at is not None
