"""Second factors: an authenticator app (TOTP, django-otp), ten single-use recovery codes (django-otp's static
device, stored as keyed hashes), and passkeys or security keys (WebAuthn, py_webauthn).

Wrong codes count against the product's throttle (``signin.mfa`` per account); django-otp's own back-off is off
(``OTP_*_THROTTLE_FACTOR = 0``) so there is one mechanism. A TOTP code is accepted once: django-otp remembers the
last time step used, so a replayed code fails."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from base64 import b32encode
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
)

from atende.accounts.models import User
from atende.audit.choices import AuditAction
from atende.audit.services import audit_record
from atende.core.actor import Actor
from atende.core.exceptions import NotFound, PermissionDenied, ValidationError
from atende.core.throttle import Throttled, rates, throttle_check, throttle_hit, throttle_reset
from atende.signin.choices import SecondFactor
from atende.signin.models import Passkey, SecurityPolicy
from atende.signin.services.passwords import password_reconfirm
from atende.signin.services.sessions import sessions_end_all

RECOVERY_CODES = 10
TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery"


# --- what a user has ------------------------------------------------------------------------------------------

def totp_devices(user: User):
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id")


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def has_second_factor(user: User) -> bool:
    return totp_devices(user).exists() or Passkey.objects.filter(user=user).exists()


def needs_second_factor_setup(user: User) -> bool:
    return user.is_staff_member and SecurityPolicy.load().require_mfa_for_staff and not has_second_factor(user)


# --- authenticator app ----------------------------------------------------------------------------------------

@transaction.atomic
def totp_enrol_start(*, user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator for ``user`` (an earlier unconfirmed one is replaced)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def totp_pending(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def totp_config_url(device: TOTPDevice, *, issuer: str) -> str:
    """The otpauth:// URL an authenticator app scans (issuer: the desk's name, label: the user's email)."""
    issuer = issuer.replace(":", "").strip() or "Atende"
    secret = b32encode(device.bin_key).decode().rstrip("=")
    query = urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": device.digits,
                       "period": device.step}, quote_via=quote)
    return f"otpauth://totp/{quote(issuer)}:{quote(device.user.email)}?{query}"


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret as people type it into an app that cannot scan (base32, in groups of four)."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def totp_enrol_confirm(*, user: User, code: str) -> list[str]:
    """Confirm the pending authenticator with a code from the app. Returns new recovery codes when the user had
    none (shown once). Not one transaction: a wrong code must stay counted."""
    _guard(user)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-id").first()
        if device is None:
            raise ValidationError(_("Start again: the set-up expired."), code="no_pending_device")
        confirmed = device.verify_token(_digits(code))
        if confirmed:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            audit_record(action=AuditAction.MFA_DEVICE_ADDED, actor=user, subject=user,
                         data={"factor": SecondFactor.TOTP})
            codes = recovery_codes_create(user=user) if recovery_codes_left(user) == 0 else []
    if not confirmed:
        _wrong_code(user, SecondFactor.TOTP)
    throttle_reset("signin.mfa", str(user.pk), rates("signin.mfa"))
    return codes


def _digits(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isdigit())


# --- recovery codes -------------------------------------------------------------------------------------------

def _recovery_hash(code: str) -> str:
    """Recovery codes are kept as keyed hashes (HMAC-SHA256 with the site's secret, 80 bits kept), never in clear."""
    normal = "".join(ch for ch in code.lower() if ch.isalnum())
    digest = hmac.new(settings.SECRET_KEY.encode(), f"atende.recovery:{normal}".encode(), hashlib.sha256).digest()
    return b32encode(digest[:10]).decode().lower()


def _new_recovery_code() -> str:
    raw = b32encode(secrets.token_bytes(10)).decode().lower()  # 80 random bits
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


@transaction.atomic
def recovery_codes_create(*, user: User) -> list[str]:
    """Ten new single-use codes replace any old ones. Returned once, in clear, to show the user."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=_recovery_hash(c)) for c in codes])
    audit_record(action=AuditAction.RECOVERY_CODES_CREATED, actor=user, subject=user)
    return codes


# --- verifying at sign-in -------------------------------------------------------------------------------------

def _guard(user: User) -> None:
    decision = throttle_check("signin.mfa", str(user.pk), rates("signin.mfa"))
    if not decision.allowed:
        throttle_hit("signin.mfa", str(user.pk), rates("signin.mfa"))  # records the refusal
        raise Throttled(_("Too many wrong codes. Wait a few minutes, then try again."),
                        retry_after=decision.retry_after, scope="signin.mfa")


def _wrong_code(user: User, factor: str):
    """Count and record a wrong code, then refuse. Callers are outside any transaction that the refusal would roll
    back, so the count stays."""
    with transaction.atomic():
        throttle_hit("signin.mfa", str(user.pk), rates("signin.mfa"))
        audit_record(action=AuditAction.MFA_FAILED, subject=user, data={"factor": factor})
    raise WrongCode(user_id=user.pk, factor=factor)


class WrongCode(ValidationError):
    code = "wrong_code"

    def __init__(self, *, user_id: int, factor: str):
        self.user_id, self.factor = user_id, factor
        super().__init__(_("That code is not right (or was already used). Try the newest code."))


def mfa_verify_code(*, user: User, code: str) -> str:
    """Check a code from the authenticator app or a recovery code; returns the factor used. Wrong codes are
    counted and recorded; a replayed TOTP code or a used recovery code is wrong."""
    _guard(user)
    text = (code or "").strip()
    digits = _digits(text)
    is_totp = len(digits) == 6 and digits == text.replace(" ", "")
    factor = _match_code(user, digits if is_totp else _recovery_hash(text), totp=is_totp)
    if factor is None:
        _wrong_code(user, SecondFactor.TOTP if is_totp else SecondFactor.RECOVERY_CODE)
    throttle_reset("signin.mfa", str(user.pk), rates("signin.mfa"))
    return factor


@transaction.atomic
def _match_code(user: User, token: str, *, totp: bool) -> str | None:
    if totp:
        for device in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
            if device.verify_token(token):
                return SecondFactor.TOTP
        return None
    for device in StaticDevice.objects.select_for_update().filter(user=user, confirmed=True):
        if device.verify_token(token):
            audit_record(action=AuditAction.RECOVERY_CODE_USED, actor=user, subject=user,
                         data={"left": recovery_codes_left(user)})
            return SecondFactor.RECOVERY_CODE
    return None


# --- passkeys -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RelyingParty:
    id: str  # the host name, e.g. "help.example.com" (never an IP address)
    name: str
    origin: str  # "https://help.example.com"


def passkey_registration_options(*, user: User, rp: RelyingParty) -> tuple[str, bytes]:
    """(options as JSON for navigator.credentials.create, the challenge to keep in the session)."""
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_name=user.email, user_display_name=user.display_name,
        user_id=str(user.pk).encode(),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=_b64d(p.credential_id)) for p in user.passkeys.all()],
        authenticator_selection=AuthenticatorSelectionCriteria(resident_key=ResidentKeyRequirement.PREFERRED))
    return options_to_json(options), options.challenge


@transaction.atomic
def passkey_register(*, user: User, rp: RelyingParty, challenge: bytes, credential: str, name: str) -> Passkey:
    name = " ".join((name or "").split())[:100] or _("Passkey")
    try:
        verified = verify_registration_response(credential=credential, expected_challenge=challenge,
                                                expected_rp_id=rp.id, expected_origin=rp.origin)
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(_("The passkey could not be registered: %(reason)s") % {"reason": exc},
                              code="passkey_invalid")
    credential_id = bytes_to_base64url(verified.credential_id)
    if Passkey.objects.filter(credential_id=credential_id).exists():
        raise ValidationError(_("This passkey is already registered."), code="passkey_exists")
    transports = []
    try:
        transports = list(json.loads(credential).get("response", {}).get("transports") or [])[:10]
    except (ValueError, AttributeError):
        pass
    passkey = Passkey.objects.create(user=user, name=name, credential_id=credential_id,
                                     public_key=verified.credential_public_key, sign_count=verified.sign_count,
                                     transports=[str(t)[:20] for t in transports])
    audit_record(action=AuditAction.MFA_DEVICE_ADDED, actor=user, subject=user,
                 data={"factor": SecondFactor.PASSKEY, "name": name})
    return passkey


def passkey_authentication_options(*, user: User, rp: RelyingParty) -> tuple[str, bytes]:
    options = generate_authentication_options(
        rp_id=rp.id, allow_credentials=[PublicKeyCredentialDescriptor(id=_b64d(p.credential_id))
                                        for p in user.passkeys.all()])
    return options_to_json(options), options.challenge


def passkey_verify(*, user: User, rp: RelyingParty, challenge: bytes, credential: str) -> Passkey:
    _guard(user)
    passkey = _passkey_check(user=user, rp=rp, challenge=challenge, credential=credential)
    if passkey is None:
        _wrong_code(user, SecondFactor.PASSKEY)
    throttle_reset("signin.mfa", str(user.pk), rates("signin.mfa"))
    return passkey


@transaction.atomic
def _passkey_check(*, user: User, rp: RelyingParty, challenge: bytes, credential: str) -> Passkey | None:
    try:
        credential_id = str(json.loads(credential).get("id", ""))
    except (ValueError, AttributeError):
        return None
    passkey = Passkey.objects.select_for_update().filter(user=user, credential_id=credential_id).first()
    if passkey is None:
        return None
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id, expected_origin=rp.origin,
            credential_public_key=bytes(passkey.public_key), credential_current_sign_count=passkey.sign_count)
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError):
        return None
    passkey.sign_count, passkey.last_used_at = verified.new_sign_count, timezone.now()
    passkey.save(update_fields=["sign_count", "last_used_at"])
    return passkey


def _b64d(value: str) -> bytes:
    from webauthn.helpers import base64url_to_bytes

    return base64url_to_bytes(value)


# --- removing and resetting -----------------------------------------------------------------------------------

def mfa_device_remove(*, user: User, kind: str, device_id: int, password: str) -> None:
    """Remove one of the user's own second factors; they re-enter their password first (wrong ones are
    throttled like sign-in failures, outside the removal's transaction so the count stays)."""
    password_reconfirm(user=user, password=password)
    with transaction.atomic():
        if kind == SecondFactor.TOTP:
            removed, _n = TOTPDevice.objects.filter(user=user, pk=device_id).delete()
        elif kind == SecondFactor.PASSKEY:
            removed, _n = Passkey.objects.filter(user=user, pk=device_id).delete()
        else:
            raise NotFound("Device not found.")
        if not removed:
            raise NotFound("Device not found.")
        if not has_second_factor(user):
            StaticDevice.objects.filter(user=user).delete()  # recovery codes stand in for a factor that is gone
        audit_record(action=AuditAction.MFA_DEVICE_REMOVED, actor=user, subject=user, data={"factor": kind})


@transaction.atomic
def mfa_reset(*, actor: Actor, user: User, reason: str = "") -> int:
    """An administrator removes every second factor of ``user`` (lost phone) and ends all their sessions; at
    their next sign-in they set one up again if the policy requires it. Returns the sessions ended."""
    if actor.user is None or not actor.user.is_admin:
        raise PermissionDenied("Only administrators reset a second factor.")
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    Passkey.objects.filter(user=user).delete()
    ended = sessions_end_all(user=user, reason="mfa_reset")
    audit_record(action=AuditAction.MFA_RESET, actor=actor, subject=user,
                 data={"reason": reason[:300], "sessions_ended": ended})
    return ended
