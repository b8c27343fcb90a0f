"""Password sign-in with the product's throttle (failures per account and per IP), password changes, and the
optional breached-password check."""

from __future__ import annotations

import hashlib
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from atende.accounts.models import User
from atende.audit.choices import AuditAction
from atende.audit.services import audit_record
from atende.core.exceptions import ValidationError
from atende.core.throttle import Throttled, rates, throttle_check, throttle_hit, throttle_reset
from atende.signin.models import SecurityPolicy, SignInSession
from atende.signin.services.notices import security_email_queue
from atende.signin.services.sessions import sessions_end_all

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PasswordCheck:
    user: User | None
    code: str  # "ok", "invalid", "locked", "sso_required"
    message: str = ""


def _wait_text(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return ngettext("Try again in %(n)d minute.", "Try again in %(n)d minutes.", minutes) % {"n": minutes}


def password_signin_check(*, email: str, password: str, ip: str) -> PasswordCheck:
    """Check an email and password. Failures count against the account and the client IP; once either is over its
    limit, attempts are refused before the password is even looked at (so guessing stops), the refusal is
    recorded, and the owner is told by email the moment their account locks."""
    email = (email or "").strip().lower()
    account_limits, ip_limits = rates("signin.account"), rates("signin.ip")
    for scope, subject, limits in (("signin.ip", ip, ip_limits), ("signin.account", email, account_limits)):
        state = throttle_check(scope, subject, limits)
        if not state.allowed:
            throttle_hit(scope, subject, limits)  # refused: records the attempt, counts nothing
            audit_record(action=AuditAction.SIGNIN_REFUSED, subject=_known(email), subject_label=email,
                         data={"reason": "locked", "scope": scope})
            return PasswordCheck(None, "locked", _("Too many failed sign-ins. %(wait)s") % {
                "wait": _wait_text(state.retry_after)})
    user = authenticate(None, username=email, password=password)
    if user is None:
        return _failure(email, ip, account_limits, ip_limits)
    throttle_reset("signin.account", email, account_limits)
    policy = SecurityPolicy.load()
    if policy.sso_required_for_staff and user.is_staff_member and user.pk != policy.break_glass_user_id:
        audit_record(action=AuditAction.SIGNIN_REFUSED, subject=user, data={"reason": "sso_required"})
        return PasswordCheck(None, "sso_required",
                             _("Agents and administrators sign in with single sign-on: use the button below."))
    return PasswordCheck(user, "ok")


def _known(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first() if email else None


@transaction.atomic
def _failure(email: str, ip: str, account_limits, ip_limits) -> PasswordCheck:
    owner = _known(email)
    throttle_hit("signin.ip", ip, ip_limits)
    account = throttle_hit("signin.account", email, account_limits)
    reason = "inactive" if owner is not None and not owner.is_active else "password"
    audit_record(action=AuditAction.SIGNIN_FAILED, subject=owner, subject_label=email, data={"reason": reason})
    if account.allowed and account.remaining == 0:  # this failure used up the account's allowance: it is locked
        locked = audit_record(action=AuditAction.ACCOUNT_LOCKED, subject=owner, subject_label=email,
                              data={"limits": [str(r) for r in account_limits]})
        if owner is not None and owner.is_active and throttle_hit("signin.alert", str(owner.pk),
                                                                   rates("signin.alert")).allowed:
            security_email_queue(kind="signin_locked", user=owner, data={"ip": ip}, key=str(locked.pk))
    return PasswordCheck(None, "invalid", _("The email address or the password is not right."))


def password_errors(password: str, *, user: User) -> list[str]:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        return list(exc.messages)
    return []


def password_reconfirm(*, user: User, password: str) -> None:
    """A signed-in person re-enters their password before a sensitive change (a new password, removing a second
    factor). Wrong passwords count against the account's sign-in limit, so a stolen session cannot be used to guess
    the password. Called outside the change's transaction, so a refusal's count and audit entry stay."""
    email, limits = user.email.strip().lower(), rates("signin.account")
    state = throttle_check("signin.account", email, limits)
    if not state.allowed:
        throttle_hit("signin.account", email, limits)  # records the refusal
        audit_record(action=AuditAction.SIGNIN_REFUSED, actor=user, subject=user,
                     data={"reason": "locked", "scope": "signin.account", "step": "reconfirm"})
        raise Throttled(_("Too many wrong passwords. %(wait)s") % {"wait": _wait_text(state.retry_after)},
                        retry_after=state.retry_after, scope="signin.account")
    if user.has_usable_password() and user.check_password(password or ""):
        return
    with transaction.atomic():
        throttle_hit("signin.account", email, limits)
        audit_record(action=AuditAction.SIGNIN_FAILED, actor=user, subject=user,
                     data={"reason": "password", "step": "reconfirm"})
    raise ValidationError(_("Your password is not right."), code="wrong_password", details={"password": "wrong"})


def password_change(request, *, user: User, old_password: str, new_password: str) -> int:
    """Change the signed-in user's password. This browser stays signed in; every other session ends.
    Returns how many sessions ended."""
    try:
        password_reconfirm(user=user, password=old_password)
    except ValidationError as exc:
        if exc.code != "wrong_password":
            raise
        raise ValidationError(_("Your current password is not right."), code="wrong_password",
                              details={"old_password": "wrong"})
    errors = password_errors(new_password, user=user)
    if errors:
        raise ValidationError(" ".join(errors), code="weak_password", details={"new_password": errors})
    with transaction.atomic():
        old_key = request.session.session_key
        user.set_password(new_password)
        user.save(update_fields=["password"])
        update_session_auth_hash(request, user)  # a new session key, still signed in
        SignInSession.objects.filter(session_key=old_key).update(session_key=request.session.session_key)
        ended = sessions_end_all(user=user, keep_session_key=request.session.session_key, reason="password_changed")
        audit_record(action=AuditAction.PASSWORD_CHANGED, actor=user, subject=user, data={"sessions_ended": ended})
    return ended


@transaction.atomic
def password_reset_completed(*, user: User) -> int:
    """A reset link set a new password: every session of the account ends (the link proved the mailbox, not
    the browsers)."""
    ended = sessions_end_all(user=user, reason="password_reset")
    audit_record(action=AuditAction.PASSWORD_CHANGED, actor=user, subject=user,
                 data={"via": "reset_link", "sessions_ended": ended})
    return ended


class BreachedPasswordValidator:
    """Refuses passwords that appear in known breaches, when the administrator turns the check on.

    k-anonymity range query: only the first five hex characters of the password's SHA-1 are sent; the service
    answers every hash suffix it knows with that prefix (padded), and the match is made here. If the service
    cannot be reached the password is accepted and a warning logged (sign-up must not depend on a third party).
    """

    def validate(self, password, user=None):
        if not SecurityPolicy.load().breached_password_check:
            return
        digest = hashlib.sha1(password.encode("utf-8")).hexdigest().upper()  # noqa: S324 (the API's format)
        prefix, suffix = digest[:5], digest[5:]
        url = settings.ATENDE_BREACHED_PASSWORD_API.rstrip("/") + "/" + prefix
        request = urllib.request.Request(url, headers={"Add-Padding": "true", "User-Agent": "Atende"})
        try:
            with urllib.request.urlopen(request, timeout=settings.ATENDE_BREACHED_PASSWORD_TIMEOUT) as response:
                body = response.read(2_000_000).decode("ascii", "replace")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            logger.warning("breached-password service unreachable (%s): password accepted", exc)
            return
        for line in body.splitlines():
            candidate, _sep, count = line.strip().partition(":")
            if candidate.upper() == suffix and count.strip() not in ("", "0"):
                raise DjangoValidationError(
                    _("This password has appeared in a data breach, so attackers try it first. Choose another."),
                    code="password_breached")

    def get_help_text(self):
        return _("Your password must not be one that has appeared in a data breach.")


class MaximumLengthValidator:
    """Refuses new passwords longer than ``max_length`` (ASVS V2.1.2: 64 must be allowed, over 128 refused). The
    limit bounds the hashing work an attacker can ask for; a password within it is stored and checked whole."""

    def __init__(self, max_length: int = 128):
        self.max_length = max_length

    def validate(self, password, user=None):
        if len(password) > self.max_length:
            raise DjangoValidationError(
                ngettext("This password is too long. It must contain at most %(max_length)d character.",
                         "This password is too long. It must contain at most %(max_length)d characters.",
                         self.max_length) % {"max_length": self.max_length},
                code="password_too_long", params={"max_length": self.max_length})

    def get_help_text(self):
        return ngettext("Your password can be up to %(max_length)d character long.",
                        "Your password can be up to %(max_length)d characters long.",
                        self.max_length) % {"max_length": self.max_length}
