"""Posting a claimed delivery over HTTP (httpx), outside any transaction, then recording the attempt."""

from __future__ import annotations

import json
import logging
import time

import httpx
from django.conf import settings

from atende.integrations.services import webhook_delivery_claim, webhook_delivery_record_attempt
from atende.integrations.signing import SIGNATURE_HEADER, webhook_signature

logger = logging.getLogger(__name__)
USER_AGENT = "Atende-Webhooks/1"


def delivery_body(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def webhook_deliver(delivery_id: int) -> str | None:
    """Send one delivery if it is due. Returns its status afterwards (None when there was nothing to do)."""
    delivery = webhook_delivery_claim(delivery_id=delivery_id)
    if delivery is None:
        return None
    secret = delivery.subscription.secret if delivery.subscription_id else delivery.adhoc_secret
    body = delivery_body(delivery.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Atende-Event": delivery.event_type,
        "X-Atende-Delivery": str(delivery.pk),
        "X-Atende-Attempt": str(delivery.attempts + 1),
    }
    if secret:
        headers[SIGNATURE_HEADER] = webhook_signature(secret, body)
    started = time.monotonic()
    status_code, error, excerpt = None, "", ""
    try:
        response = httpx.post(delivery.url, content=body, headers=headers, follow_redirects=False,
                              timeout=float(getattr(settings, "ATENDE_WEBHOOK_TIMEOUT", 10)))
        status_code, excerpt = response.status_code, response.text[:1000]
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except httpx.TimeoutException:
        error = "timed out"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    duration_ms = int((time.monotonic() - started) * 1000)
    recorded = webhook_delivery_record_attempt(delivery_id=delivery.pk, status_code=status_code, error=error,
                                               duration_ms=duration_ms, response_excerpt=excerpt)
    if error:
        logger.info("webhook delivery %s to %s failed: %s", delivery.pk, delivery.url, error)
    return recorded.status
