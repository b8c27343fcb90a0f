"""Single sign-on: who an identity provider's answer names, and the Atende account it opens (matched by a
verified email address, or created just in time with the provider's role and teams). Refusals are recorded."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from atende.accounts.choices import Role
from atende.accounts.models import Team, User
from atende.accounts.services import normalize_email, user_create
from atende.audit.choices import AuditAction
from atende.audit.services import audit_record
from atende.core.exceptions import DomainError, ValidationError
from atende.signin.choices import ProviderAudience
from atende.signin.models import SsoProvider


class SsoRefused(DomainError):
    """The identity provider's answer does not let this person in."""

    code = "sso_refused"
    status = 403


@dataclass(frozen=True)
class SsoIdentity:
    email: str
    email_verified: bool | None  # None: the provider does not say
    name: str = ""
    subject: str = ""
    groups: list[str] = field(default_factory=list)


def sso_refusal_record(*, provider: SsoProvider, reason: str, detail: str = "", email: str = "") -> None:
    """An answer refused before any account was looked at (bad signature, wrong issuer…)."""
    audit_record(action=AuditAction.SIGNIN_REFUSED, subject_label=email[:254],
                 data={"method": provider.kind, "provider": provider.slug, "reason": reason, "detail": detail[:500]})


def _refuse(provider: SsoProvider, reason: str, message: str, *, identity: SsoIdentity | None = None,
            user: User | None = None):
    audit_record(action=AuditAction.SIGNIN_REFUSED, subject=user,
                 subject_label=identity.email if identity is not None else "",
                 data={"method": provider.kind, "provider": provider.slug, "reason": reason})
    raise SsoRefused(message, code=reason)


def _domain_allowed(provider: SsoProvider, email: str) -> bool:
    domains = {d.strip().lower().lstrip("@") for d in provider.allowed_domains.split(",") if d.strip()}
    return not domains or email.rsplit("@", 1)[-1] in domains


def sso_user_for_identity(*, provider: SsoProvider, identity: SsoIdentity, portal: bool = False) -> User:
    """The account ``identity`` signs in to. Not one transaction: a refusal's audit entry must stay."""
    try:
        email = normalize_email(identity.email)
    except ValidationError:
        _refuse(provider, "no_email", _("The identity provider did not send an email address."), identity=identity)
    # An address the provider has not verified could belong to anyone: it never opens an account. A provider
    # that does not say (Microsoft Entra ID) is trusted only for the domains the administrator listed.
    if identity.email_verified is False or (identity.email_verified is None and not provider.allowed_domains):
        _refuse(provider, "email_unverified",
                _("The identity provider has not verified the address %(email)s, so it cannot be used to sign in.")
                % {"email": email}, identity=identity)
    if not _domain_allowed(provider, email):
        _refuse(provider, "domain_not_allowed",
                _("Addresses at %(domain)s cannot sign in with %(provider)s.")
                % {"domain": email.rsplit("@", 1)[-1], "provider": provider.name}, identity=identity)
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        if not user.is_active:
            _refuse(provider, "user_disabled", _("This account is disabled. Ask an administrator."),
                    identity=identity, user=user)
        if not provider.serves(staff=user.is_staff_member) or (portal and user.is_staff_member):
            _refuse(provider, "wrong_audience", _("%(provider)s cannot be used to sign in to this account.")
                    % {"provider": provider.name}, identity=identity, user=user)
        return user
    if not provider.create_users:
        _refuse(provider, "no_account", _("There is no account for %(email)s. Ask an administrator to add you.")
                % {"email": email}, identity=identity)
    return sso_user_create(provider=provider, identity=identity, email=email, portal=portal)


@transaction.atomic
def sso_user_create(*, provider: SsoProvider, identity: SsoIdentity, email: str, portal: bool) -> User:
    """Just-in-time account: the provider's role (customers for portal sign-in) and its teams."""
    customer_only = portal or provider.audience == ProviderAudience.CUSTOMERS
    role = Role.CUSTOMER if customer_only else provider.default_role
    user = user_create(email=email, name=identity.name.strip()[:200], role=role, email_verified=True)
    teams = []
    if role != Role.CUSTOMER:
        slugs = {str(provider.group_teams[g]) for g in identity.groups if g in (provider.group_teams or {})}
        teams = list(provider.default_teams.all()) + list(Team.objects.filter(slug__in=slugs))
        for team in {t.pk: t for t in teams}.values():
            team.members.add(user)
    audit_record(action=AuditAction.USER_CREATED, subject=user,
                 data={"via": provider.kind, "provider": provider.slug, "role": role,
                       "teams": sorted({t.slug for t in teams})})
    return user
