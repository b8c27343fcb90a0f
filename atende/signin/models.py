"""Sign-in security: the admin's policy, each signed-in session, passkeys and single sign-on providers.

Authenticator apps and recovery codes are django-otp's ``TOTPDevice`` and ``StaticDevice``."""

import os

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from atende.accounts.choices import Role
from atende.core.models import BaseModel
from atende.signin.choices import ProviderAudience, ProviderKind, SecondFactor, SignInMethod


class SecurityPolicy(models.Model):
    """The administrator's sign-in rules (one row)."""

    require_mfa_for_staff = models.BooleanField(
        _("require two-factor authentication for agents and administrators"), default=False,
        help_text=_("Enforced at their next sign-in: whoever has no second factor sets one up before going on."))
    sso_required_for_staff = models.BooleanField(
        _("agents and administrators must sign in with single sign-on"), default=False,
        help_text=_("Password sign-in is then refused for staff, except the break-glass account below."))
    break_glass_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        limit_choices_to={"role": Role.ADMIN}, verbose_name=_("break-glass administrator"),
        help_text=_("This administrator may still sign in with a password (and their second factor) when single "
                    "sign-on is mandatory, so a broken identity provider cannot lock everyone out."))
    session_lifetime_hours = models.PositiveIntegerField(
        _("session lifetime (hours)"), default=14 * 24,
        help_text=_("A session ends this long after sign-in, whatever happens."))
    session_idle_minutes = models.PositiveIntegerField(
        _("idle timeout (minutes)"), default=8 * 60,
        help_text=_("A session ends after this long without a request. 0 turns the idle timeout off."))
    breached_password_check = models.BooleanField(
        _("refuse passwords found in data breaches"), default=False,
        help_text=_("New passwords are checked against a breached-password range service (only the first five "
                    "characters of the password's SHA-1 hash leave the server)."))

    class Meta:
        verbose_name = _("sign-in policy")
        verbose_name_plural = _("sign-in policy")

    def __str__(self) -> str:
        return str(_("Sign-in policy"))

    @classmethod
    def load(cls) -> "SecurityPolicy":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class SignInSession(models.Model):
    """A signed-in browser session, for the user's list of sessions (the session itself is Django's)."""

    session_key = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signin_sessions")
    method = models.CharField(max_length=20, choices=SignInMethod.choices)
    second_factor = models.CharField(max_length=20, choices=SecondFactor.choices, blank=True)
    provider = models.CharField(max_length=100, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-last_seen_at"], name="signin_session_user",
                                condition=models.Q(ended_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.user_id} {self.method} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class Passkey(models.Model):
    """A WebAuthn credential (passkey or security key) used as a second factor."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys")
    name = models.CharField(_("name"), max_length=100)
    credential_id = models.CharField(max_length=1400, unique=True)  # base64url
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("passkey")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name


class SsoProvider(BaseModel):
    """An identity provider people sign in through (OpenID Connect or SAML 2.0)."""

    kind = models.CharField(_("protocol"), max_length=10, choices=ProviderKind.choices)
    name = models.CharField(_("name on the button"), max_length=100)
    slug = models.SlugField(_("short name (in URLs)"), unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    audience = models.CharField(_("who signs in with it"), max_length=10, choices=ProviderAudience.choices,
                                default=ProviderAudience.STAFF)
    # OpenID Connect
    issuer = models.URLField(_("issuer URL"), max_length=500, blank=True,
                             help_text=_("Its discovery document is read from this URL followed by /.well-known/openid-configuration."))
    client_id = models.CharField(_("client ID"), max_length=300, blank=True)
    client_secret = models.CharField(
        _("client secret"), max_length=500, blank=True,
        help_text=_("Or env:NAME to read it from the environment variable NAME."))
    scopes = models.CharField(_("scopes"), max_length=300, default="openid email profile")
    # SAML 2.0
    idp_entity_id = models.CharField(_("IdP entity ID"), max_length=500, blank=True)
    idp_sso_url = models.URLField(_("IdP single sign-on URL (HTTP-Redirect)"), max_length=500, blank=True)
    idp_certificate = models.TextField(_("IdP signing certificate (PEM)"), blank=True)
    email_attribute = models.CharField(_("email attribute"), max_length=200, blank=True,
                                       help_text=_("SAML attribute holding the email (empty: the NameID)."))
    # Who gets in, and as what
    create_users = models.BooleanField(_("create unknown people on first sign-in"), default=False)
    default_role = models.CharField(_("role for people it creates"), max_length=20, choices=Role.choices,
                                    default=Role.AGENT)
    default_teams = models.ManyToManyField("accounts.Team", blank=True, related_name="+",
                                           verbose_name=_("teams for people it creates"))
    groups_claim = models.CharField(_("groups claim or attribute"), max_length=100, blank=True, default="groups")
    group_teams = models.JSONField(_("group → team"), default=dict, blank=True,
                                   help_text=_('Optional: {"idp-group": "team-slug"} puts new people in teams.'))
    allowed_domains = models.CharField(_("allowed email domains"), max_length=500, blank=True,
                                       help_text=_("Comma-separated; empty allows any domain the provider vouches for."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("single sign-on provider")

    def __str__(self) -> str:
        return self.name

    def resolved_client_secret(self) -> str:
        if self.client_secret.startswith("env:"):
            return os.environ.get(self.client_secret[4:], "")
        return self.client_secret

    def serves(self, *, staff: bool) -> bool:
        if staff:
            return self.audience in (ProviderAudience.STAFF, ProviderAudience.EVERYONE)
        return self.audience in (ProviderAudience.CUSTOMERS, ProviderAudience.EVERYONE)

    @property
    def method(self) -> str:
        return SignInMethod.OIDC if self.kind == ProviderKind.OIDC else SignInMethod.SAML


class SamlRequest(models.Model):
    """A SAML sign-in this server started: the IdP's answer must reply to it (InResponseTo), and only once.

    Kept in the database, not the session: the IdP posts its answer cross-site, where browsers do not send the
    session cookie (SameSite=Lax)."""

    request_id = models.CharField(max_length=100, unique=True)
    provider = models.ForeignKey(SsoProvider, on_delete=models.CASCADE, related_name="+")
    next_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.request_id
