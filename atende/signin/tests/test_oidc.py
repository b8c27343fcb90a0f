"""OpenID Connect sign-in against a real provider on loopback: a round trip signs in, people are matched by
verified email or created with the provider's role and teams, and every bad answer is refused with a message and
an audit entry (wrong issuer, audience, signature or nonce, an expired token, an unverified address, a disabled
account, a forged state)."""

from urllib.parse import parse_qs, urljoin, urlparse

import httpx
import pytest
from django.test import Client

from atende.accounts.choices import Role
from atende.accounts.models import User
from atende.accounts.tests.factories import AgentFactory, CustomerFactory, TeamFactory
from atende.audit.choices import AuditAction
from atende.audit.models import AuditEntry
from atende.signin.models import SignInSession, SsoProvider
from atende.signin.tests.oidc_idp.server import CLIENT_ID, CLIENT_SECRET, PASSWORD

pytestmark = pytest.mark.slow


@pytest.fixture
def provider(db, oidc_idp):
    return SsoProvider.objects.create(kind="oidc", name="Company SSO", slug="idp", issuer=oidc_idp.issuer,
                                      client_id=CLIENT_ID, client_secret=CLIENT_SECRET, audience="everyone")


def idp_sign_in(username: str, authorize_url: str) -> str:
    """What the person's browser does at the provider: sign in there, come back with a code. Returns the
    callback URL the provider redirects to."""
    with httpx.Client(timeout=30) as browser:
        response = browser.get(authorize_url)
        assert response.status_code == 302, response.text[:500]
        login_url = urljoin(authorize_url, response.headers["location"])
        browser.get(login_url)
        next_url = parse_qs(urlparse(login_url).query)["next"][0]
        response = browser.post(login_url, data={"username": username, "password": PASSWORD, "next": next_url,
                                                 "csrfmiddlewaretoken": browser.cookies["idp_csrftoken"]})
        assert response.status_code == 302, response.text[:500]
        response = browser.get(urljoin(login_url, response.headers["location"]))
        assert response.status_code == 302, response.text[:500]
        return response.headers["location"]


def round_trip(client: Client, username: str, start: str = "/accounts/oidc/idp/login/"):
    response = client.get(start)
    assert response.status_code == 302 and "/openid/authorize" in response.url
    callback = idp_sign_in(username, response.url)
    assert callback.startswith("http://testserver/accounts/oidc/idp/callback/")
    return client.get(callback.removeprefix("http://testserver"))


def test_a_known_agent_signs_in_through_the_provider(provider):
    agent = AgentFactory(email="ana@idp.test")
    client = Client()
    response = round_trip(client, "ana", start="/accounts/oidc/idp/login/?next=/console/")
    assert response.status_code == 302 and response.url == "/console/"
    assert client.get("/console/").status_code == 200
    session = SignInSession.objects.get(user=agent)
    assert (session.method, session.provider) == ("oidc", "idp")
    assert AuditEntry.objects.get(action=AuditAction.SIGNIN_SUCCEEDED).data["provider"] == "idp"


def test_unknown_people_are_refused_unless_the_provider_creates_them(provider):
    client = Client()
    response = round_trip(client, "newcomer")
    assert response.status_code == 403 and "no account" in response.content.decode().lower()
    assert AuditEntry.objects.get(action=AuditAction.SIGNIN_REFUSED).data["reason"] == "no_account"
    support = TeamFactory(slug="support")
    TeamFactory(slug="l2")
    provider.create_users, provider.default_role = True, Role.AGENT
    provider.group_teams = {"support-l2": "l2"}
    provider.save()
    provider.default_teams.set([support])
    assert round_trip(Client(), "newcomer").status_code == 302
    newcomer = User.objects.get(email="newcomer@idp.test")
    assert newcomer.role == Role.AGENT and newcomer.email_verified and not newcomer.has_usable_password()
    assert list(newcomer.teams.values_list("slug", flat=True)) == ["support"]
    assert round_trip(Client(), "grouped").status_code == 302
    assert sorted(User.objects.get(email="grouped@idp.test").teams.values_list("slug", flat=True)) == ["l2", "support"]
    assert AuditEntry.objects.filter(action=AuditAction.USER_CREATED).count() == 2


@pytest.mark.parametrize("username,reason,words", [
    ("wrong_aud", "wrong_audience", "another application"),
    ("wrong_iss", "wrong_issuer", "issuer"),
    ("bad_nonce", "nonce_mismatch", "nonce"),
    ("expired", "token_expired", "expired"),
    ("bad_sig", "bad_signature", "signature"),
])
def test_bad_id_tokens_are_refused_with_a_message_and_an_audit_entry(provider, username, reason, words):
    AgentFactory(email=f"{username}@idp.test")
    client = Client()
    response = round_trip(client, username)
    entry = AuditEntry.objects.get(action=AuditAction.SIGNIN_REFUSED)
    assert entry.data["reason"] == reason, entry.data
    assert response.status_code == 403 and words in response.content.decode()
    assert client.get("/accounts/profile/").status_code == 302


def test_an_unverified_address_or_a_disabled_account_is_refused(provider):
    AgentFactory(email="unverified@idp.test")
    AgentFactory(email="disabled@idp.test", is_active=False)
    unverified = round_trip(Client(), "unverified")
    assert unverified.status_code == 403 and "not verified" in unverified.content.decode()
    disabled = round_trip(Client(), "disabled")
    assert disabled.status_code == 403 and "disabled" in disabled.content.decode()
    reasons = sorted(AuditEntry.objects.filter(action=AuditAction.SIGNIN_REFUSED).values_list("data__reason", flat=True))
    assert reasons == ["email_unverified", "user_disabled"]


def test_a_forged_state_or_a_provider_error_is_refused(provider):
    client = Client()
    client.get("/accounts/oidc/idp/login/")
    forged = client.get("/accounts/oidc/idp/callback/", {"code": "abc", "state": "forged"})
    assert forged.status_code == 403
    denied = client.get("/accounts/oidc/idp/callback/", {"error": "access_denied"})
    assert denied.status_code == 403
    assert AuditEntry.objects.filter(action=AuditAction.SIGNIN_REFUSED).count() == 2


def test_a_provider_whose_discovery_names_another_issuer_is_refused(provider, oidc_idp):
    SsoProvider.objects.filter(pk=provider.pk).update(issuer=oidc_idp.issuer + "/")
    assert Client().get("/accounts/oidc/idp/login/").status_code == 302  # a trailing slash is the same issuer
    # Configured as localhost, the provider's discovery document (there too) names 127.0.0.1 as its issuer.
    SsoProvider.objects.filter(pk=provider.pk).update(issuer=oidc_idp.issuer.replace("127.0.0.1", "localhost"))
    response = Client().get("/accounts/oidc/idp/login/")
    assert response.status_code == 403 and "issuer" in response.content.decode()
    assert AuditEntry.objects.get(action=AuditAction.SIGNIN_REFUSED).data["reason"] == "wrong_issuer"
    SsoProvider.objects.filter(pk=provider.pk).update(issuer="http://127.0.0.1:9/openid")  # nothing listens
    response = Client().get("/accounts/oidc/idp/login/")
    assert response.status_code == 403 and "could not be reached" in response.content.decode()


def test_customers_sign_in_to_the_portal_through_a_customer_provider(provider):
    provider.audience, provider.create_users = "customers", True
    provider.save()
    CustomerFactory(email="customer@idp.test")
    client = Client()
    assert round_trip(client, "customer", start="/accounts/oidc/idp/login/?portal=1&next=/portal/").url == "/portal/"
    AgentFactory(email="ana@idp.test")
    staff = round_trip(Client(), "ana", start="/accounts/oidc/idp/login/?portal=1")
    assert staff.status_code == 403  # a customer provider does not open staff accounts
