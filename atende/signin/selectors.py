from django.db.models import Exists, OuterRef, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from atende.accounts.choices import STAFF_ROLES
from atende.accounts.models import User
from atende.core.exceptions import NotFound
from atende.signin.models import Passkey, SignInSession, SsoProvider


def sso_providers_for_login() -> list[SsoProvider]:
    return list(SsoProvider.objects.filter(is_active=True).order_by("name"))


def sso_provider_list() -> QuerySet[SsoProvider]:
    """Every provider, inactive ones too (the settings page)."""
    return SsoProvider.objects.order_by("name")


def sso_provider(provider_id: int) -> SsoProvider:
    return SsoProvider.objects.get(pk=provider_id)


def access_sso_provider(*, slug: str) -> SsoProvider:
    provider = SsoProvider.objects.filter(slug=slug, is_active=True).first()
    if provider is None:
        raise NotFound("Unknown sign-in provider.")
    return provider


def staff_with_second_factor_status() -> QuerySet[User]:

    return (User.objects.filter(role__in=STAFF_ROLES, is_active=True)
            .annotate(has_totp=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
                      has_passkey=Exists(Passkey.objects.filter(user=OuterRef("pk"))))
            .order_by("name", "email"))


def session_list_for_user(*, user: User) -> QuerySet:
    return SignInSession.objects.filter(user=user, ended_at__isnull=True).order_by("-last_seen_at")
