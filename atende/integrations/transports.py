"""The ``webhook`` transport of the outbound engine: a JSON POST over HTTP (httpx), signed as docs/webhooks.md
describes (``X-Atende-Signature: t=…,v1=…``). Deliveries of a subscription use its current secret and are held
while it is disabled; failures count towards disabling it."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import ssl
import threading
from collections.abc import Iterator

import httpx
from django.conf import settings

from atende.integrations.models import WebhookSubscription
from atende.integrations.services.webhooks import webhook_disabled_notify
from atende.integrations.signing import SIGNATURE_HEADER, webhook_signature
from atende.outbound.models import Delivery, DeliveryAttempt
from atende.outbound.transports import DeliveryCancelled, DeliveryFailed, DeliveryHeld, SendResult, Transport

logger = logging.getLogger(__name__)
USER_AGENT = "Atende-Webhooks/1"
_batch = threading.local()  # the HTTP client (keep-alive) a drained batch shares, per worker thread


DELIVERY_HEADER = "X-Atende-Delivery"


def delivery_body(delivery: Delivery) -> bytes:
    """The bytes POSTed for ``delivery``: its stored JSON body with ``delivery_id`` (the delivery's id, so the
    signature covers it), serialised canonically. The same bytes on every attempt of the same delivery, so a
    receiver that sees one twice can drop the second by its id (docs/webhooks.md, "Duplicates")."""
    body = delivery.payload["body"]
    if isinstance(body, dict):
        body = {**body, "delivery_id": delivery.pk}
    return json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's roots, or SSL_CERT_FILE / SSL_CERT_DIR), built once per process:
    loading the roots took ~0.1 s for each client, that is each drained batch."""
    return httpx.create_ssl_context()


def _timeout() -> float:
    return float(getattr(settings, "ATENDE_WEBHOOK_TIMEOUT", 10))


class WebhookTransport(Transport):
    name = "webhook"

    @property
    def lease_seconds(self) -> float:  # the send's timeout and a margin
        return _timeout() + float(getattr(settings, "ATENDE_WEBHOOK_LEASE_MARGIN", 30))

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        with httpx.Client(follow_redirects=False, timeout=_timeout(), verify=_ssl_context()) as client:
            _batch.client, _batch.subscriptions = client, None
            try:
                yield
            finally:
                _batch.client, _batch.subscriptions = None, None

    def send(self, delivery: Delivery) -> SendResult:
        subscription_id = delivery.payload.get("subscription_id")
        secret = delivery.payload.get("secret", "")
        if subscription_id is not None:
            subscription = _subscription(subscription_id)
            if subscription is None:
                raise DeliveryCancelled("The webhook was deleted.")
            if not subscription.is_active:
                raise DeliveryHeld
            secret = subscription.secret
        body = delivery_body(delivery)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Atende-Event": delivery.kind,
            DELIVERY_HEADER: str(delivery.pk),
            "X-Atende-Attempt": str(delivery.attempts),
        }
        if secret:
            headers[SIGNATURE_HEADER] = webhook_signature(secret, body)
        try:
            client = getattr(_batch, "client", None)
            if client is not None:
                response = client.post(delivery.target, content=body, headers=headers)
            else:
                response = httpx.post(delivery.target, content=body, headers=headers, follow_redirects=False,
                                      timeout=_timeout(), verify=_ssl_context())
        except httpx.TimeoutException:
            raise DeliveryFailed("timed out") from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}"[:500]) from None
        excerpt = response.text[:1000]
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"HTTP {response.status_code}", status_code=response.status_code,
                                 response_excerpt=excerpt)
        return SendResult(status_code=response.status_code, response_excerpt=excerpt)

    def max_attempts(self) -> int:
        return int(getattr(settings, "ATENDE_WEBHOOK_MAX_ATTEMPTS", 8))

    def retry_base_seconds(self) -> float:
        return float(getattr(settings, "ATENDE_WEBHOOK_BACKOFF_SECONDS", 30))

    def attempt_recorded(self, delivery: Delivery, attempt: DeliveryAttempt) -> None:
        self.attempts_recorded([(delivery, attempt)])

    def attempts_recorded(self, recorded: list[tuple[Delivery, DeliveryAttempt]]) -> None:
        """Webhooks whose attempts here all succeeded: their failure count reset with one UPDATE (which matches
        no row in the common case); the others counted attempt by attempt, in order."""
        by_subscription: dict[int, list[DeliveryAttempt]] = {}
        for delivery, attempt in recorded:
            subscription_id = delivery.payload.get("subscription_id")
            if subscription_id is not None:
                by_subscription.setdefault(subscription_id, []).append(attempt)
        succeeded = [pk for pk, attempts in by_subscription.items() if all(a.succeeded for a in attempts)]
        if succeeded:
            WebhookSubscription.objects.filter(pk__in=succeeded, consecutive_failures__gt=0).update(
                consecutive_failures=0, updated_at=recorded[0][1].created_at)
        for subscription_id, attempts in by_subscription.items():
            if subscription_id in succeeded:
                continue
            for attempt in attempts:
                _count_result(subscription_id, ok=attempt.succeeded, now=attempt.created_at,
                              status_code=attempt.status_code, error=attempt.error)
            if getattr(_batch, "subscriptions", None):  # a failure may have switched it off: read it again
                _batch.subscriptions.pop(subscription_id, None)


def _subscription(subscription_id: int) -> WebhookSubscription | None:
    """The webhook a delivery belongs to; inside a batch, every webhook is read once for the batch."""
    if getattr(_batch, "client", None) is None:
        return WebhookSubscription.objects.filter(pk=subscription_id).first()
    if _batch.subscriptions is None:
        _batch.subscriptions = {s.pk: s for s in WebhookSubscription.objects.all()}
    if subscription_id not in _batch.subscriptions:
        _batch.subscriptions[subscription_id] = WebhookSubscription.objects.filter(pk=subscription_id).first()
    return _batch.subscriptions[subscription_id]


def _count_result(subscription_id: int, *, ok: bool, now, status_code, error: str) -> None:
    """Consecutive failures per webhook; past ``ATENDE_WEBHOOK_DISABLE_AFTER`` it is switched off (its
    deliveries wait) and the administrators are told."""
    if ok:  # one UPDATE, which matches no row in the common case (nothing to reset)
        WebhookSubscription.objects.filter(pk=subscription_id, consecutive_failures__gt=0).update(
            consecutive_failures=0, updated_at=now)
        return
    subscription = WebhookSubscription.objects.select_for_update().filter(pk=subscription_id).first()
    if subscription is None:
        return
    subscription.consecutive_failures += 1
    fields = ["consecutive_failures", "updated_at"]
    limit = int(getattr(settings, "ATENDE_WEBHOOK_DISABLE_AFTER", 10))
    if subscription.is_active and subscription.consecutive_failures >= limit:
        subscription.is_active = False
        subscription.disabled_at = now
        last = f"HTTP {status_code}" if status_code else (error or "no response")
        subscription.disabled_reason = (f"Disabled after {subscription.consecutive_failures} failed deliveries "
                                        f"in a row (last: {last}).")[:300]
        fields += ["is_active", "disabled_at", "disabled_reason"]
    subscription.save(update_fields=fields)
    if not subscription.is_active and "is_active" in fields:  # switched off just now: the notice goes with it
        webhook_disabled_notify(subscription=subscription)
