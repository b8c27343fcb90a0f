from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AuditAction(models.TextChoices):
    SIGNIN_SUCCEEDED = "signin_succeeded", _("Signed in")
    SIGNIN_FAILED = "signin_failed", _("Sign-in failed")
    SIGNIN_REFUSED = "signin_refused", _("Sign-in refused")
    ACCOUNT_LOCKED = "account_locked", _("Account locked after failed sign-ins")
    SIGNED_OUT = "signed_out", _("Signed out")
    SESSION_ENDED = "session_ended", _("Session ended")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    MFA_DEVICE_ADDED = "mfa_device_added", _("Second factor added")
    MFA_DEVICE_REMOVED = "mfa_device_removed", _("Second factor removed")
    MFA_FAILED = "mfa_failed", _("Wrong second-factor code")
    MFA_RESET = "mfa_reset", _("Second factor reset by an administrator")
    RECOVERY_CODES_CREATED = "recovery_codes_created", _("Recovery codes created")
    RECOVERY_CODE_USED = "recovery_code_used", _("Recovery code used")
    SECURITY_POLICY_CHANGED = "security_policy_changed", _("Sign-in policy changed")
    SSO_PROVIDER_CHANGED = "sso_provider_changed", _("Single sign-on provider changed")
    USER_CREATED = "user_created", _("User created")
    USER_CHANGED = "user_changed", _("User changed")
    ROLE_CHANGED = "role_changed", _("Role changed")
    TEAMS_CHANGED = "teams_changed", _("Team membership changed")
    API_TOKEN_CREATED = "api_token_created", _("API token created")
    API_TOKEN_REVOKED = "api_token_revoked", _("API token revoked")
    SETTINGS_CHANGED = "settings_changed", _("Settings changed")
    PERSON_ERASED = "person_erased", _("Person erased (privacy request)")


SIGNIN_ACTIONS = frozenset({AuditAction.SIGNIN_SUCCEEDED, AuditAction.SIGNIN_FAILED, AuditAction.SIGNIN_REFUSED,
                            AuditAction.ACCOUNT_LOCKED, AuditAction.SIGNED_OUT, AuditAction.SESSION_ENDED})


class SettingsOperation(models.TextChoices):
    """What a settings entry did to its object (``data["operation"]``)."""

    CREATED = "created", pgettext_lazy("audit operation", "created")
    UPDATED = "updated", pgettext_lazy("audit operation", "changed")
    DELETED = "deleted", pgettext_lazy("audit operation", "deleted")
    REORDERED = "reordered", pgettext_lazy("audit operation", "moved in the order")


class AuditReason(models.TextChoices):
    """Why a sign-in failed, was refused or a session ended (``data["reason"]``), in the reader's language."""

    PASSWORD = "password", _("wrong password or unknown address")
    INACTIVE = "inactive", _("account switched off")
    LOCKED = "locked", _("too many failed attempts")
    SSO_REQUIRED = "sso_required", _("single sign-on is required for this account")
    SIGNED_OUT = "signed_out", _("signed out")
    IDLE = "idle", _("idle for too long")
    EXPIRED = "expired", _("session expired")
    ENDED = "ended", _("session ended elsewhere")
    ENDED_BY_USER = "ended_by_user", _("ended from the sessions page")
    PASSWORD_CHANGED = "password_changed", _("password changed")
    PASSWORD_RESET = "password_reset", _("password reset")
    MFA_RESET = "mfa_reset", _("second factor reset")
    DOMAIN_NOT_ALLOWED = "domain_not_allowed", _("email domain not allowed for this provider")
    EMAIL_UNVERIFIED = "email_unverified", _("the provider has not verified the email")
    NO_ACCOUNT = "no_account", _("no account for this email")
    NO_EMAIL = "no_email", _("the provider sent no email")
    USER_DISABLED = "user_disabled", _("account switched off")
    WRONG_AUDIENCE = "wrong_audience", _("answer meant for another service")
    STATE_MISMATCH = "state_mismatch", _("sign-in started in another browser or expired")
    TOKEN_EXCHANGE_FAILED = "token_exchange_failed", _("the provider refused the code exchange")
    BAD_SIGNATURE = "bad_signature", _("bad signature from the provider")
    INVALID_RESPONSE = "invalid_response", _("invalid answer from the provider")
    MALFORMED_RESPONSE = "malformed_response", _("malformed answer from the provider")
    NO_ID_TOKEN = "no_id_token", _("the provider sent no ID token")
    NO_RESPONSE = "no_response", _("the provider sent no answer")
    PROVIDER_ERROR = "provider_error", _("the provider reported an error")
    PROVIDER_UNREACHABLE = "provider_unreachable", _("the provider could not be reached")
    UNSOLICITED_OR_REPLAYED = "unsolicited_or_replayed", _("unsolicited or replayed answer")
    WRONG_ISSUER = "wrong_issuer", _("answer from an unexpected issuer")
    XMLSEC_MISSING = "xmlsec_missing", _("SAML signature checking is not installed on the server")
