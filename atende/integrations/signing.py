"""``X-Atende-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.

The timestamp is signed with the body, so a captured request cannot be replayed later: receivers reject
signatures older than a few minutes (``webhook_signature_verify`` does, with ``tolerance`` seconds).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "X-Atende-Signature"
DEFAULT_TOLERANCE = 300


def webhook_secret_generate() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def webhook_signature(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def webhook_signature_verify(secret: str, header: str, body: bytes, *, tolerance: int = DEFAULT_TOLERANCE,
                             now: float | None = None) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and is at most ``tolerance`` seconds old."""
    try:
        parts = dict(item.split("=", 1) for item in (header or "").split(","))
        timestamp = int(parts["t"])
        signatures = [v for k, v in (item.split("=", 1) for item in header.split(",")) if k == "v1"]
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = _mac(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
