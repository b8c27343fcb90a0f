"""The administrator's sign-in policy and single sign-on providers: every change is in the audit log."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from atende.accounts.models import Team
from atende.audit.choices import AuditAction
from atende.audit.services import audit_record, changes_between, model_snapshot
from atende.core.actor import Actor
from atende.core.exceptions import PermissionDenied, ValidationError, full_clean_or_raise
from atende.signin.models import SecurityPolicy, SsoProvider

POLICY_FIELDS = {"require_mfa_for_staff", "sso_required_for_staff", "break_glass_user", "session_lifetime_hours",
                 "session_idle_minutes", "breached_password_check"}


def _require_admin(actor: Actor) -> None:
    if actor.user is None or not actor.user.is_admin:
        raise PermissionDenied("Only administrators change the sign-in policy.")


@transaction.atomic
def security_policy_update(*, actor: Actor, **fields: Any) -> SecurityPolicy:
    _require_admin(actor)
    unknown = set(fields) - POLICY_FIELDS
    if unknown:
        raise ValidationError(f"Unknown policy fields: {', '.join(sorted(unknown))}.", code="unknown_field")
    policy = SecurityPolicy.objects.select_for_update().get(pk=SecurityPolicy.load().pk)
    before = model_snapshot(policy)
    for name, value in fields.items():
        setattr(policy, name, value)
    if policy.session_lifetime_hours < 1:
        raise ValidationError("A session lasts at least one hour.", code="invalid_lifetime")
    if policy.sso_required_for_staff and not SsoProvider.objects.filter(is_active=True).exists():
        raise ValidationError("Add an active single sign-on provider before making it mandatory.",
                              code="no_sso_provider")
    if policy.break_glass_user is not None and not policy.break_glass_user.is_admin:
        raise ValidationError("The break-glass account must be an administrator.", code="break_glass_not_admin")
    full_clean_or_raise(policy)
    policy.save()
    changes = changes_between(before, model_snapshot(policy))
    if changes:
        audit_record(action=AuditAction.SECURITY_POLICY_CHANGED, actor=actor, target=policy, changes=changes)
    return policy


PROVIDER_FIELDS = {"kind", "name", "slug", "is_active", "audience", "issuer", "client_id", "client_secret", "scopes",
                   "idp_entity_id", "idp_sso_url", "idp_certificate", "email_attribute", "create_users",
                   "default_role", "groups_claim", "group_teams", "allowed_domains"}


def _provider_snapshot(provider: SsoProvider) -> dict[str, Any]:
    snapshot = model_snapshot(provider)
    snapshot["default_teams"] = sorted(provider.default_teams.values_list("slug", flat=True)) if provider.pk else []
    return snapshot


@transaction.atomic
def sso_provider_save(*, actor: Actor, provider: SsoProvider | None = None, default_teams: list[Team] | None = None,
                      **fields: Any) -> SsoProvider:
    """Create or change a provider. A blank client secret on an existing provider keeps the stored one."""
    _require_admin(actor)
    unknown = set(fields) - PROVIDER_FIELDS
    if unknown:
        raise ValidationError(f"Unknown provider fields: {', '.join(sorted(unknown))}.", code="unknown_field")
    before = _provider_snapshot(provider) if provider is not None and provider.pk else {}
    provider = provider or SsoProvider()
    if provider.pk and not fields.get("client_secret"):
        fields.pop("client_secret", None)
    for name, value in fields.items():
        setattr(provider, name, value.strip() if isinstance(value, str) else value)
    if provider.kind == "oidc" and not (provider.issuer and provider.client_id):
        raise ValidationError("An OpenID Connect provider needs its issuer URL and a client ID.",
                              code="oidc_incomplete")
    if provider.kind == "saml" and not (provider.idp_entity_id and provider.idp_sso_url and provider.idp_certificate):
        raise ValidationError("A SAML provider needs the IdP's entity ID, single sign-on URL and certificate.",
                              code="saml_incomplete")
    if not isinstance(provider.group_teams, dict):
        raise ValidationError('The group → team map must be a JSON object like {"group": "team-slug"}.',
                              code="invalid_group_teams")
    unknown_teams = set(map(str, provider.group_teams.values())) - set(Team.objects.values_list("slug", flat=True))
    if unknown_teams:
        raise ValidationError(f"Unknown teams in the group map: {', '.join(sorted(unknown_teams))}.",
                              code="unknown_team")
    full_clean_or_raise(provider)
    provider.save()
    if default_teams is not None:
        provider.default_teams.set(default_teams)
    audit_record(action=AuditAction.SSO_PROVIDER_CHANGED, actor=actor, target=provider,
                 changes=changes_between(before, _provider_snapshot(provider)),
                 data={"operation": "updated" if before else "created"})
    return provider


@transaction.atomic
def sso_provider_delete(*, actor: Actor, provider: SsoProvider) -> None:
    _require_admin(actor)
    audit_record(action=AuditAction.SSO_PROVIDER_CHANGED, actor=actor, target=provider,
                 changes=changes_between(_provider_snapshot(provider), {}), data={"operation": "deleted"})
    provider.delete()
