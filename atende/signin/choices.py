from django.db import models
from django.utils.translation import gettext_lazy as _


class SignInMethod(models.TextChoices):
    PASSWORD = "password", _("Password")
    MAGIC_LINK = "magic_link", _("Email link")
    EMAIL_VERIFICATION = "email_verification", _("Email verification link")
    OIDC = "oidc", _("Single sign-on (OpenID Connect)")
    SAML = "saml", _("Single sign-on (SAML)")


class SecondFactor(models.TextChoices):
    TOTP = "totp", _("Authenticator app")
    RECOVERY_CODE = "recovery_code", _("Recovery code")
    PASSKEY = "passkey", _("Passkey or security key")


class ProviderKind(models.TextChoices):
    OIDC = "oidc", _("OpenID Connect")
    SAML = "saml", _("SAML 2.0")


class ProviderAudience(models.TextChoices):
    STAFF = "staff", _("Agents and administrators")
    CUSTOMERS = "customers", _("Customers (portal)")
    EVERYONE = "everyone", _("Everyone")
