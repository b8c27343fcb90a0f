"""SAML 2.0 sign-in against a real IdP on loopback (pysaml2's IdP server, xmlsec1 signatures): a round trip
signs in; expired, unsigned, tampered, replayed, foreign-signed and misaddressed answers are refused with a
message and an audit entry, never a 500."""

import base64
import re
from urllib.parse import urlparse

import httpx
import pytest
from django.test import Client

from atende.accounts.choices import Role
from atende.accounts.models import User
from atende.accounts.tests.factories import AgentFactory
from atende.audit.choices import AuditAction
from atende.audit.models import AuditEntry
from atende.signin.models import SignInSession, SsoProvider

pytestmark = pytest.mark.slow


@pytest.fixture
def provider(db, saml_idp):
    return SsoProvider.objects.create(kind="saml", name="Company SAML", slug="corp", idp_entity_id=saml_idp.entity_id,
                                      idp_sso_url=saml_idp.sso_url, idp_certificate=saml_idp.certificate,
                                      audience="staff")


def idp_answer(client: Client, username: str, start: str = "/accounts/saml/corp/login/") -> tuple[str, str]:
    """The browser's trip to the IdP and its answer: (ACS path, SAMLResponse)."""
    response = client.get(start)
    assert response.status_code == 302 and response.url.startswith("http://127.0.0.1"), response
    with httpx.Client(timeout=30) as browser:
        page = browser.get(response.url).text
        saml_request = re.search(r'name="SAMLRequest" value="([^"]+)"', page).group(1)
        answer = browser.post(urlparse(response.url)._replace(path="/sso/login", query="").geturl(),
                              data={"SAMLRequest": saml_request, "RelayState": "", "username": username}).text
    acs = re.search(r'action="([^"]+)"', answer).group(1)
    saml_response = re.search(r'name="SAMLResponse" value="([^"]+)"', answer).group(1)
    return acs.removeprefix("http://testserver"), saml_response


def test_a_round_trip_signs_the_agent_in(provider):
    agent = AgentFactory(email="ana@saml.test")
    client = Client()
    acs, saml_response = idp_answer(client, "ana", start="/accounts/saml/corp/login/?next=/console/")
    assert acs == "/accounts/saml/corp/acs/"
    response = client.post(acs, {"SAMLResponse": saml_response})
    assert response.status_code == 302 and response.url == "/console/"
    assert client.get("/console/").status_code == 200
    assert SignInSession.objects.get(user=agent).method == "saml"


def test_a_replayed_answer_is_refused(provider):
    AgentFactory(email="ana@saml.test")
    client = Client()
    acs, saml_response = idp_answer(client, "ana")
    assert client.post(acs, {"SAMLResponse": saml_response}).status_code == 302
    thief = Client()
    replay = thief.post(acs, {"SAMLResponse": saml_response})
    assert replay.status_code == 403 and "already used" in replay.content.decode()
    assert thief.get("/accounts/profile/").status_code == 302
    assert AuditEntry.objects.get(action=AuditAction.SIGNIN_REFUSED).data["reason"] == "unsolicited_or_replayed"


def test_a_tampered_answer_is_refused(provider):
    AgentFactory(email="ana@saml.test")
    AgentFactory(email="boss@saml.test", role=Role.ADMIN)
    client = Client()
    acs, saml_response = idp_answer(client, "ana")
    xml = base64.b64decode(saml_response).decode().replace("ana@saml.test", "boss@saml.test")
    response = client.post(acs, {"SAMLResponse": base64.b64encode(xml.encode()).decode()})
    assert response.status_code == 403 and "signature" in response.content.decode()
    assert client.get("/accounts/profile/").status_code == 302
    assert AuditEntry.objects.get(action=AuditAction.SIGNIN_REFUSED).data["reason"] == "bad_signature"


@pytest.mark.parametrize("username,reason", [("expired", "response_expired"), ("unsigned", "bad_signature"),
                                             ("rogue", "bad_signature"), ("other_sp", "wrong_audience")])
def test_bad_answers_from_the_idp_are_refused(provider, username, reason):
    AgentFactory(email=f"{username}@saml.test")
    client = Client()
    acs, saml_response = idp_answer(client, username)
    if username == "unsigned":
        assert b"SignatureValue" not in base64.b64decode(saml_response)
    response = client.post(acs, {"SAMLResponse": saml_response})
    entry = AuditEntry.objects.get(action=AuditAction.SIGNIN_REFUSED)
    assert entry.data["reason"] == reason, entry.data
    assert response.status_code == 403 and "refused" in response.content.decode()
    assert client.get("/accounts/profile/").status_code == 302


@pytest.mark.parametrize("body", [{}, {"SAMLResponse": ""}, {"SAMLResponse": "not base64 !!"},
                                  {"SAMLResponse": base64.b64encode(b"<not-saml/>").decode()},
                                  {"SAMLResponse": base64.b64encode(b"\x00\xff" * 50).decode()}])
def test_garbage_posted_to_the_acs_is_refused_not_a_500(provider, body):
    response = Client().post("/accounts/saml/corp/acs/", body)
    assert response.status_code == 403


def test_people_are_created_just_in_time_when_the_provider_allows(provider):
    client = Client()
    acs, saml_response = idp_answer(client, "newcomer")
    assert client.post(acs, {"SAMLResponse": saml_response}).status_code == 403
    provider.create_users, provider.default_role = True, Role.COLLABORATOR
    provider.save()
    client = Client()
    acs, saml_response = idp_answer(client, "newcomer")
    assert client.post(acs, {"SAMLResponse": saml_response}).status_code == 302
    user = User.objects.get(email="newcomer@saml.test")
    assert user.role == Role.COLLABORATOR and user.name == "Newcomer"


def test_the_service_provider_publishes_its_metadata(provider):
    response = Client().get("/accounts/saml/corp/metadata/")
    assert response.status_code == 200 and b"AssertionConsumerService" in response.content
    assert b"http://testserver/accounts/saml/corp/acs/" in response.content
