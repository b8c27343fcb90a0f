"""Signed visitor tokens and the host site's identity signatures.

A visitor token is ``signing.dumps({"w": widget key, "v": visitor id})``: the page keeps it in localStorage and
presents it on every connection; without the server's ``SECRET_KEY`` nobody can make one for another
conversation, so a token reads only its own conversation (never a guessable id).

``Atende.identify({email, signature})``: the host site computes HMAC-SHA256(widget secret, lower-cased email)
on its server and passes the hex digest; a matching signature lets chat trust the email without a form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.core import signing

SALT = "atende.chat.visitor"


def visitor_id_new() -> str:
    return secrets.token_hex(16)


def visitor_token_make(*, widget_key: str, visitor_id: str) -> str:
    return signing.dumps({"w": widget_key, "v": visitor_id}, salt=SALT, compress=False)


def visitor_token_read(token: str, *, widget_key: str) -> str | None:
    """The visitor id the token carries for this widget, or None (forged, expired, another widget's)."""
    if not token or len(token) > 400:
        return None
    try:
        data = signing.loads(token, salt=SALT, max_age=getattr(settings, "CHAT_VISITOR_TOKEN_MAX_AGE", 30 * 86400))
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("w") != widget_key or not isinstance(data.get("v"), str):
        return None
    return data["v"]


def identity_signature(*, secret: str, email: str) -> str:
    return hmac.new(secret.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()


def identity_signature_valid(*, secret: str, email: str, signature: str) -> bool:
    if not email or not signature or not isinstance(signature, str):
        return False
    return hmac.compare_digest(identity_signature(secret=secret, email=email), signature.strip().lower())
