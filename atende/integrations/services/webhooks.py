"""Webhook subscriptions and deliveries. HTTP is never sent from here: the sender (``integrations.sender``,
run by tasks in the worker) claims a delivery, posts it outside any transaction, then records the attempt."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from atende.audit.services import audit_settings_change, audit_settings_saved, model_snapshot
from atende.core.actor import Actor
from atende.core.exceptions import Conflict, PermissionDenied, ValidationError
from atende.integrations.choices import DeliveryStatus, WebhookEvent
from atende.integrations.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from atende.integrations.payloads import SCHEMA_VERSION, webhook_payload_for_event
from atende.integrations.signing import webhook_secret_generate

BACKOFF_CAP = datetime.timedelta(hours=6)
# Delivery bookkeeping is not configuration: only what an administrator sets is compared.
AUDIT_EXCLUDE = ("consecutive_failures",)


def _require_admin(actor: Actor) -> None:
    if actor.kind in ("system", "automation"):
        return
    if actor.user is None or not actor.user.is_admin:
        raise PermissionDenied("Only administrators manage webhooks.")


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValidationError("The URL must start with http:// or https://.", code="invalid_url",
                              details={"url": url[:200]})
    if len(url) > 500:
        raise ValidationError("The URL is too long.", code="invalid_url")
    return url


def _clean_events(event_types) -> list[str]:
    events = list(dict.fromkeys(str(e).strip() for e in event_types or () if str(e).strip()))
    if not events:
        raise ValidationError("Choose at least one event.", code="events_required", details={"event_types": []})
    unknown = [e for e in events if e != "*" and e not in WebhookEvent.values]
    if unknown:
        raise ValidationError(f"Unknown events: {', '.join(unknown)}.", code="unknown_event",
                              details={"unknown": unknown, "allowed": ["*", *WebhookEvent.values]})
    return events


@transaction.atomic
def webhook_subscription_create(*, actor: Actor, name: str, url: str, event_types, secret: str = "",
                                is_active: bool = True) -> WebhookSubscription:
    _require_admin(actor)
    name = " ".join((name or "").split())[:100]
    if not name:
        raise ValidationError("Give the webhook a name.", code="name_required")
    subscription = WebhookSubscription(name=name, url=_clean_url(url), event_types=_clean_events(event_types),
                                       secret=secret or webhook_secret_generate(), is_active=is_active,
                                       created_by=actor.user)
    subscription.full_clean()
    subscription.save()
    audit_settings_saved(actor=actor, target=subscription, before={}, exclude=AUDIT_EXCLUDE)
    return subscription


@transaction.atomic
def webhook_subscription_update(*, actor: Actor, subscription: WebhookSubscription, changes: dict[str, Any],
                                rotate_secret: bool = False) -> WebhookSubscription:
    """Change name, url, event_types or is_active. Re-enabling clears the failure count and the notice."""
    _require_admin(actor)
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    before = model_snapshot(subscription, exclude=AUDIT_EXCLUDE)
    unknown = set(changes) - {"name", "url", "event_types", "is_active"}
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.", code="unknown_field")
    if "name" in changes:
        subscription.name = " ".join((changes["name"] or "").split())[:100]
        if not subscription.name:
            raise ValidationError("Give the webhook a name.", code="name_required")
    if "url" in changes:
        subscription.url = _clean_url(changes["url"])
    if "event_types" in changes:
        subscription.event_types = _clean_events(changes["event_types"])
    if "is_active" in changes:
        active = bool(changes["is_active"])
        if active and not subscription.is_active:
            subscription.consecutive_failures = 0
            subscription.disabled_at = None
            subscription.disabled_reason = ""
        subscription.is_active = active
    if rotate_secret:
        subscription.secret = webhook_secret_generate()
    subscription.full_clean()
    subscription.save()
    audit_settings_saved(actor=actor, target=subscription, before=before, exclude=AUDIT_EXCLUDE)
    return subscription


@transaction.atomic
def webhook_subscription_delete(*, actor: Actor, subscription: WebhookSubscription) -> None:
    _require_admin(actor)
    audit_settings_change(actor=actor, target=subscription, operation="deleted",
                          before=model_snapshot(subscription, exclude=AUDIT_EXCLUDE))
    subscription.delete()


def _enqueue_send(delivery_id: int) -> None:
    """Send after commit, from the worker: never inside the request's transaction."""
    from atende.integrations.tasks import webhook_send_task

    transaction.on_commit(lambda: webhook_send_task.enqueue(delivery_id))


@transaction.atomic
def webhook_subscription_ping(*, actor: Actor, subscription: WebhookSubscription) -> WebhookDelivery:
    """A test delivery (event ``ping``) so the admin can check the receiver and its signature check."""
    _require_admin(actor)
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, url=subscription.url, event_type="ping", next_attempt_at=timezone.now(),
        payload={"schema_version": SCHEMA_VERSION, "event": "ping", "event_id": None,
                 "occurred_at": timezone.now().isoformat().replace("+00:00", "Z"),
                 "webhook": {"id": subscription.pk, "name": subscription.name}},
    )
    _enqueue_send(delivery.pk)
    return delivery


@transaction.atomic
def webhook_deliveries_create_for_event(*, event: dict[str, Any]) -> list[int]:
    """One delivery per active subscription that wants this event; repeats of the same event create nothing.
    Returns the ids of deliveries still to send."""
    subscriptions = [s for s in WebhookSubscription.objects.filter(is_active=True)]
    if not subscriptions:
        return []
    payload = webhook_payload_for_event(event)
    if payload is None:
        return []
    due = []
    for subscription in subscriptions:
        if not subscription.wants(payload["event"]):
            continue
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    subscription=subscription, url=subscription.url, event_id=event.get("event_id"),
                    event_type=payload["event"], payload=payload, next_attempt_at=timezone.now())
        except IntegrityError:  # this event was already fanned out (a retried task)
            delivery = WebhookDelivery.objects.get(subscription=subscription, event_id=event.get("event_id"))
        if delivery.status == DeliveryStatus.PENDING:
            due.append(delivery.pk)
    return due


@transaction.atomic
def webhook_deliver_adhoc(*, url: str, payload: dict, secret: str = "") -> WebhookDelivery:
    """Automation's "call a webhook" action: a one-off signed POST with the same retries and log."""
    delivery = WebhookDelivery.objects.create(
        subscription=None, url=_clean_url(url), adhoc_secret=secret or "", event_type="automation",
        payload=payload, next_attempt_at=timezone.now())
    _enqueue_send(delivery.pk)
    return delivery


def _lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=float(getattr(settings, "ATENDE_WEBHOOK_TIMEOUT", 10)) + 30)


@transaction.atomic
def webhook_delivery_claim(*, delivery_id: int, now: datetime.datetime | None = None) -> WebhookDelivery | None:
    """Take a due delivery for sending (pushing its next attempt past the send's timeout, so a concurrent
    retry tick skips it). None when it is done, not due, or its webhook is disabled."""
    now = now or timezone.now()
    delivery = (WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("subscription").filter(pk=delivery_id).first())
    if delivery is None or delivery.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.ABANDONED):
        return None
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
        return None
    if delivery.subscription_id is not None and not delivery.subscription.is_active:
        return None
    delivery.next_attempt_at = now + _lease()
    delivery.save(update_fields=["next_attempt_at"])
    return delivery


def backoff_delay(attempts: int) -> datetime.timedelta:
    """Exponential: base, 2×base, 4×base… (base ``ATENDE_WEBHOOK_BACKOFF_SECONDS``, 30 s), capped at 6 hours."""
    base = float(getattr(settings, "ATENDE_WEBHOOK_BACKOFF_SECONDS", 30))
    return min(datetime.timedelta(seconds=base * (2 ** max(0, attempts - 1))), BACKOFF_CAP)


@transaction.atomic
def webhook_delivery_record_attempt(*, delivery_id: int, status_code: int | None, error: str = "",
                                    duration_ms: int = 0, response_excerpt: str = "",
                                    now: datetime.datetime | None = None) -> WebhookDelivery:
    """Log one attempt; schedule the retry or give up; disable a webhook that keeps failing."""
    now = now or timezone.now()
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
    delivery.attempts += 1
    WebhookAttempt.objects.create(delivery=delivery, number=delivery.attempts, status_code=status_code,
                                  error=error[:500], response_excerpt=response_excerpt[:1000],
                                  duration_ms=duration_ms, created_at=now)
    ok = status_code is not None and 200 <= status_code < 300
    delivery.last_attempt_at, delivery.last_status_code = now, status_code
    delivery.last_error, delivery.last_duration_ms = error[:500], duration_ms
    max_attempts = int(getattr(settings, "ATENDE_WEBHOOK_MAX_ATTEMPTS", 8))
    if ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, now, None
    elif delivery.attempts >= max_attempts:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.ABANDONED, None
    else:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, now + backoff_delay(delivery.attempts)
    delivery.save()
    if delivery.subscription_id is not None:
        _count_result(delivery.subscription_id, ok=ok, now=now, status_code=status_code, error=error)
    return delivery


def _count_result(subscription_id: int, *, ok: bool, now, status_code, error: str) -> None:
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
    if ok:
        if subscription.consecutive_failures:
            subscription.consecutive_failures = 0
            subscription.save(update_fields=["consecutive_failures", "updated_at"])
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
        from atende.integrations.tasks import webhook_disabled_notice_task

        transaction.on_commit(lambda: webhook_disabled_notice_task.enqueue(subscription.pk))
    subscription.save(update_fields=fields)


@transaction.atomic
def webhook_delivery_redeliver(*, actor: Actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (after fixing the receiver): it becomes due now, keeping its attempt log."""
    _require_admin(actor)
    delivery = WebhookDelivery.objects.select_for_update(of=("self",)).select_related("subscription").get(pk=delivery.pk)
    if delivery.subscription_id is not None and not delivery.subscription.is_active:
        raise Conflict("The webhook is disabled; enable it before re-sending.", code="webhook_disabled")
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at"])
    _enqueue_send(delivery.pk)
    return delivery
