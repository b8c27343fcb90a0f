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
