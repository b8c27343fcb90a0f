"""Abuse control for the public form, without a third-party CAPTCHA:

- a honeypot field people never see (bots fill every field);
- a signed, time-stamped form token: refused when sent less than ``CONTACT_FORM_MIN_SECONDS`` after the form was
  shown (scripts post at once), when older than ``CONTACT_FORM_TOKEN_MAX_AGE``, or when used before (replays);
- rate limits per client IP and per address (``contact.ip``, ``contact.address`` in ``core.throttle``).

The token also stands in for the CSRF cookie, which a browser does not send to a form embedded on another site.
"""

from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from atende.core.exceptions import ValidationError
from atende.core.throttle import Rate, Throttled, rates, throttle_hit

TOKEN_SALT = "atende.contact.form-token"


class Refused(ValidationError):
    """The submission looks automated or repeated; the visitor is told what to do."""

    code = "refused"


def form_token_issue(*, now: float | None = None) -> str:
    return signing.dumps({"n": secrets.token_urlsafe(12), "t": round(now or time.time(), 3)}, salt=TOKEN_SALT)


def form_token_check(token: str, *, now: float | None = None) -> str:
    """The token's nonce, used up; ``Refused`` with the reason otherwise."""
    now = now or time.time()
    try:
        data = signing.loads(token or "", salt=TOKEN_SALT, max_age=settings.CONTACT_FORM_TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise Refused(_("This form was open too long. Please send it again."), code="token_expired") from None
    except signing.BadSignature:
        raise Refused(_("This form could not be checked. Reload the page and send it again."),
                      code="token_invalid") from None
    age = now - float(data["t"])
    if age > settings.CONTACT_FORM_TOKEN_MAX_AGE:
        raise Refused(_("This form was open too long. Please send it again."), code="token_expired")
    if age < settings.CONTACT_FORM_MIN_SECONDS:
        raise Refused(_("That was too fast. Please check your message and send it again."), code="too_fast")
    decision = throttle_hit("contact.token", str(data["n"]), [Rate(1, settings.CONTACT_FORM_TOKEN_MAX_AGE)],
                            now=now)
    if not decision.allowed:
        raise Refused(_("This form was already sent. Reload the page to send another request."), code="token_used")
    return str(data["n"])


def throttle_contact(*, ip: str, address: str) -> None:
    """Both limits or neither: ``Throttled`` (429) with a message saying when to try again."""
    for scope, subject in (("contact.ip", ip), ("contact.address", address)):
        if not subject:
            continue
        decision = throttle_hit(scope, subject, rates(scope))
        if not decision.allowed:
            minutes = max(1, round(decision.retry_after / 60))
            raise Throttled(_("Too many requests from you in a short time. Please try again in %(minutes)d "
                              "minute(s), or write to us by email.") % {"minutes": minutes},
                            retry_after=decision.retry_after, scope=scope)
