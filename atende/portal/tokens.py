"""Signed, time-limited tokens for the links sent by email (no table needed).

- Email verification: bound to the user and the address; useless once the address is verified.
- Magic link: bound to the user's ``last_login``; logging in changes it, so each link works once.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from atende.accounts.models import User
from atende.core.exceptions import ValidationError

VERIFY_SALT = "atende.portal.verify-email"
MAGIC_SALT = "atende.portal.magic-link"


class InvalidToken(ValidationError):
    """The link is damaged, expired or already used."""

    code = "invalid_token"


@dataclass(frozen=True)
class TokenData:
    user_id: int
    value: str


def _last_login_marker(user: User) -> str:
    return user.last_login.isoformat() if user.last_login else ""


def make_verification_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "e": user.email}, salt=VERIFY_SALT, compress=True)


def read_verification_token(token: str) -> TokenData:
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=settings.PORTAL_VERIFY_MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidToken(_("This verification link has expired. Log in and ask for a new one."), code="token_expired")
    except signing.BadSignature:
        raise InvalidToken(_("This verification link is not valid. Check that you copied all of it."))
    return TokenData(user_id=int(data["u"]), value=str(data["e"]))


def make_magic_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "l": _last_login_marker(user)}, salt=MAGIC_SALT, compress=True)


def read_magic_token(token: str) -> TokenData:
    try:
        data = signing.loads(token, salt=MAGIC_SALT, max_age=settings.PORTAL_MAGIC_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidToken(_("This log-in link has expired. Ask for a new one."), code="token_expired")
    except signing.BadSignature:
        raise InvalidToken(_("This log-in link is not valid. Check that you copied all of it."))
    return TokenData(user_id=int(data["u"]), value=str(data["l"]))


def magic_token_matches(user: User, data: TokenData) -> bool:
    return data.value == _last_login_marker(user)
