"""The one spelling of each kind of contact identity, so that the same person is found however they typed it.

- email: trimmed and lower-cased;
- phone and WhatsApp: E.164 (``+5511912345678``) via the ``phonenumbers`` library; numbers without a country
  code are read in ``settings.ATENDE_PHONE_REGION``; WhatsApp ids arrive as bare digits and get their ``+``;
- Telegram: the numeric user (or chat) id the Bot API sends;
- chat: the widget's opaque visitor id (no spaces, at most 200 characters).
"""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _

from atende.accounts.choices import IdentityKind
from atende.core.exceptions import ValidationError

_TELEGRAM_ID = re.compile(r"^-?\d{1,20}$")
_CHAT_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,200}$")


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email or len(email) > 254:
        raise ValidationError(_("“%(value)s” is not a valid email address.") % {"value": email[:254]},
                              code="invalid_email", details={"email": "invalid"})
    return email


def normalize_phone(phone: str, *, region: str | None = None) -> str:
    text = (phone or "").strip()
    region = settings.ATENDE_PHONE_REGION if region is None else region
    try:
        parsed = phonenumbers.parse(text, (region or None) if not text.startswith("+") else None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise ValidationError(
            _("“%(value)s” is not a valid phone number. Include the country code, e.g. +55 11 91234-5678.")
            % {"value": text[:50]}, code="invalid_phone", details={"phone": "invalid"})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_identity(kind: str, value: str) -> str:
    """``value`` as stored for ``kind``; ``ValidationError`` (with a reason people can act on) when it is not one."""
    value = str(value or "").strip()
    if kind == IdentityKind.EMAIL:
        return normalize_email(value)
    if kind == IdentityKind.PHONE:
        return normalize_phone(value)
    if kind == IdentityKind.WHATSAPP:
        return normalize_phone(f"+{value}" if value.isdigit() else value, region="")
    if kind == IdentityKind.TELEGRAM:
        if not _TELEGRAM_ID.match(value):
            raise ValidationError(_("A Telegram identity is the numeric user id."), code="invalid_telegram",
                                  details={"value": "invalid"})
        return str(int(value))
    if kind == IdentityKind.CHAT:
        if not _CHAT_ID.match(value):
            raise ValidationError(_("A chat visitor id has 1 to 200 letters, digits or . _ : @ -"),
                                  code="invalid_chat_id", details={"value": "invalid"})
        return value
    raise ValidationError(_("Unknown identity kind “%(kind)s”.") % {"kind": str(kind)[:20]},
                          code="unknown_identity_kind", details={"kind": str(kind)[:20]})
