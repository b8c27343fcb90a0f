"""Settings › Sign-in security: administrators only; the policy and providers saved through the page, each
change in the audit log with what changed (secrets hidden), bad input as form errors."""

import pytest

from atende.accounts.tests.factories import AdminFactory, AgentFactory, TeamFactory
from atende.audit.choices import AuditAction
from atende.audit.models import AuditEntry
from atende.signin.models import SecurityPolicy, SsoProvider

POLICY = {"session_lifetime_hours": "24", "session_idle_minutes": "60"}
OIDC = {"kind": "oidc", "name": "Okta", "slug": "okta", "is_active": "on", "audience": "staff",
        "issuer": "https://acme.okta.example", "client_id": "atende", "client_secret": "s3cret-value",
        "scopes": "openid email profile", "default_role": "agent", "groups_claim": "groups", "group_teams": "{}",
        "allowed_domains": ""}


@pytest.fixture
def admin_client(client, db):
    client.force_login(AdminFactory(email="root@atende.test"))
    return client


def test_only_administrators_see_the_page(client, db):
    client.force_login(AgentFactory())
    assert client.get("/console/security/").status_code == 404
    assert client.post("/console/security/", {**POLICY, "require_mfa_for_staff": "on"}).status_code == 404
    assert not SecurityPolicy.objects.filter(require_mfa_for_staff=True).exists()


def test_the_policy_is_saved_and_logged(admin_client):
    assert admin_client.get("/console/security/").status_code == 200
    response = admin_client.post("/console/security/", {**POLICY, "require_mfa_for_staff": "on"})
    assert response.status_code == 302
    policy = SecurityPolicy.load()
    assert policy.require_mfa_for_staff and policy.session_lifetime_hours == 24
    entry = AuditEntry.objects.get(action=AuditAction.SECURITY_POLICY_CHANGED)
    assert entry.changes["require_mfa_for_staff"] == [False, True] and entry.actor.email == "root@atende.test"


def test_mandatory_sso_needs_a_provider(admin_client):
    response = admin_client.post("/console/security/", {**POLICY, "sso_required_for_staff": "on"})
    assert response.status_code == 200 and "single sign-on provider" in response.content.decode()
    assert not SecurityPolicy.load().sso_required_for_staff


def test_providers_are_added_changed_and_deleted_with_secrets_hidden_in_the_log(admin_client):
    team = TeamFactory(slug="support")
    assert admin_client.post("/console/security/providers/new/", {**OIDC, "default_teams": [team.pk]}).status_code == 302
    provider = SsoProvider.objects.get(slug="okta")
    assert provider.client_secret == "s3cret-value" and list(provider.default_teams.all()) == [team]
    edit = {**OIDC, "name": "Okta (staff)", "client_secret": "", "default_teams": [team.pk]}  # empty: secret kept
    assert admin_client.post(f"/console/security/providers/{provider.pk}/", edit).status_code == 302
    provider.refresh_from_db()
    assert provider.name == "Okta (staff)" and provider.client_secret == "s3cret-value"
    assert admin_client.post(f"/console/security/providers/{provider.pk}/delete/").status_code == 302
    entries = list(AuditEntry.objects.filter(action=AuditAction.SSO_PROVIDER_CHANGED).order_by("id"))
    assert [e.data["operation"] for e in entries] == ["created", "updated", "deleted"]
    assert "s3cret-value" not in str([e.changes for e in entries])
    assert entries[1].changes == {"name": ["Okta", "Okta (staff)"]}


@pytest.mark.parametrize("bad,words", [({"issuer": ""}, "issuer URL"), ({"group_teams": '{"g": "nope"}'}, "Unknown teams"),
                                       ({"group_teams": "[1, 2]"}, "JSON object"), ({"kind": "saml"}, "certificate")])
def test_incomplete_or_wrong_providers_are_form_errors(admin_client, bad, words):
    response = admin_client.post("/console/security/providers/new/", {**OIDC, **bad})
    assert response.status_code == 200 and words in response.content.decode()
    assert not SsoProvider.objects.exists()
