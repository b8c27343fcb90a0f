"""Webhook subscriptions and their deliveries. Deliveries are rows of the outbound engine (transport ``webhook``,
integrations/transports.py): HTTP is sent by the worker after commit, never from here."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from atende.accounts.selectors import agent_list
from atende.audit.services import audit_settings_change, audit_settings_saved, model_snapshot
from atende.core.actor import Actor
from atende.core.exceptions import Conflict, PermissionDenied, ValidationError
from atende.email_channel.services import mail_queue
from atende.integrations.choices import EVENT_MAP, WebhookEvent
from atende.integrations.models import WebhookSubscription
from atende.integrations.payloads import SCHEMA_VERSION, webhook_payloads_for_events
from atende.integrations.selectors import webhook_source
from atende.integrations.signing import webhook_secret_generate
from atende.outbound.models import Delivery
from atende.outbound.services import (
    deliveries_discard,
    deliveries_enqueue,
    deliveries_resume,
    delivery_enqueue,
    delivery_retry,
)

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
    resume = False
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
        resume = active and not subscription.is_active
        if resume:
            subscription.consecutive_failures = 0
            subscription.disabled_at = None
            subscription.disabled_reason = ""
        subscription.is_active = active
    if rotate_secret:
        subscription.secret = webhook_secret_generate()
    subscription.full_clean()
    subscription.save()
    if resume:  # deliveries held while it was disabled become due again
        deliveries_resume(source=webhook_source(subscription.pk))
    audit_settings_saved(actor=actor, target=subscription, before=before, exclude=AUDIT_EXCLUDE)
    return subscription


@transaction.atomic
def webhook_subscription_delete(*, actor: Actor, subscription: WebhookSubscription) -> None:
    _require_admin(actor)
    audit_settings_change(actor=actor, target=subscription, operation="deleted",
                          before=model_snapshot(subscription, exclude=AUDIT_EXCLUDE))
    deliveries_discard(source=webhook_source(subscription.pk))
    subscription.delete()


def _item(*, subscription: WebhookSubscription, event_type: str, payload: dict[str, Any],
          event_id: int | None = None, ticket_id: int | None = None) -> dict[str, Any]:
    """The outbound item for one subscription's delivery, keyed by event and webhook."""
    return {"transport": "webhook", "target": subscription.url, "kind": event_type,
            "key": f"{event_id}:webhook:{subscription.pk}" if event_id is not None else None,
            "source": webhook_source(subscription.pk), "event_id": event_id, "ticket_id": ticket_id,
            "payload": {"subscription_id": subscription.pk, "body": payload}}


def _enqueue(**kwargs: Any) -> Delivery:
    return delivery_enqueue(**_item(**kwargs))


@transaction.atomic
def webhook_subscription_ping(*, actor: Actor, subscription: WebhookSubscription) -> Delivery:
    """A test delivery (event ``ping``) so the admin can check the receiver and its signature check."""
    _require_admin(actor)
    return _enqueue(subscription=subscription, event_type="ping", payload={
        "schema_version": SCHEMA_VERSION, "event": "ping", "event_id": None,
        "occurred_at": timezone.now().isoformat().replace("+00:00", "Z"),
        "webhook": {"id": subscription.pk, "name": subscription.name}})


@transaction.atomic
def webhook_deliveries_create_for_event(*, event: dict[str, Any]) -> list[int]:
    """One delivery per active subscription that wants this event, keyed by event and webhook, so repeats of
    the same event create nothing. Returns the ids of the deliveries created now."""
    return webhook_deliveries_create_for_events(events=[event])


@transaction.atomic
def webhook_deliveries_create_for_events(*, events: list[dict[str, Any]],
                                         subscriptions: list[WebhookSubscription] | None = None) -> list[int]:
    """``webhook_deliveries_create_for_event`` for a batch of events, set-wise: the subscriptions, the tickets and
    the messages read once, only events some webhook wants built, and one ``deliveries_enqueue``."""
    if subscriptions is None:
        subscriptions = list(WebhookSubscription.objects.filter(is_active=True))
    listening_to = webhooks_by_event_type(subscriptions)
    wanted = [(event, listening_to[event.get("type", "")]) for event in events
              if event.get("type", "") in listening_to]
    if not wanted:
        return []
    payloads = webhook_payloads_for_events([event for event, _subs in wanted])
    items = [_item(subscription=subscription, event_type=payload["event"], payload=payload,
                   event_id=event.get("event_id"), ticket_id=event.get("ticket_id"))
             for (event, listening), payload in zip(wanted, payloads, strict=True) if payload is not None
             for subscription in listening]
    return [row.pk for row in deliveries_enqueue(items) if row.created] if items else []


def webhooks_by_event_type(subscriptions: list[WebhookSubscription]) -> dict[str, list[WebhookSubscription]]:
    """Ticket event type -> the active webhooks that want it; a type no webhook wants is not a key."""
    out: dict[str, list[WebhookSubscription]] = {}
    for event_type, name in EVENT_MAP.items():
        listening = [s for s in subscriptions if s.wants(str(name))]
        if listening:
            out[event_type] = listening
    return out


def webhook_adhoc_item(*, url: str, payload: dict, secret: str = "", key: str | None = None,
                       ticket_id: int | None = None, source: str = "automation") -> dict[str, Any]:
    """The outbound item (``deliveries_enqueue``) for a one-off POST; ValidationError for a URL that is not
    http(s). For callers that queue many at once."""
    return {"transport": "webhook", "target": _clean_url(url), "key": key, "kind": "automation", "source": source,
            "ticket_id": ticket_id, "payload": {"subscription_id": None, "secret": secret or "", "body": payload}}


@transaction.atomic
def webhook_deliver_adhoc(*, url: str, payload: dict, secret: str = "", key: str | None = None,
                          ticket_id: int | None = None, source: str = "automation") -> Delivery:
    """Automation's "call a webhook" action: a one-off POST, signed like every webhook when a secret is
    given, with the same retries and attempt log."""
    return delivery_enqueue(**webhook_adhoc_item(url=url, payload=payload, secret=secret, key=key,
                                                 ticket_id=ticket_id, source=source))


@transaction.atomic
def webhook_delivery_redeliver(*, actor: Actor, delivery: Delivery) -> Delivery:
    """Send a delivery again (after fixing the receiver): it becomes due now, keeping its attempt log."""
    _require_admin(actor)
    subscription_id = delivery.payload.get("subscription_id")
    if subscription_id is not None:
        subscription = WebhookSubscription.objects.filter(pk=subscription_id).first()
        if subscription is not None and not subscription.is_active:
            raise Conflict("The webhook is disabled; enable it before re-sending.", code="webhook_disabled")
    return delivery_retry(delivery=delivery, actor=actor)


@transaction.atomic
def webhook_disabled_notify(*, subscription: WebhookSubscription) -> int:
    """Tell the administrators (and whoever created it) that a webhook was switched off, and why: one mail each,
    in their language, queued in the transaction that disabled it and keyed by that switch-off, so it is told
    once. Returns how many mails were queued."""
    if subscription.is_active:
        return 0
    people = {u.email.lower(): u for u in agent_list() if u.is_admin}
    creator = subscription.created_by
    if creator is not None and creator.is_active:
        people.setdefault(creator.email.lower(), creator)
    when = subscription.disabled_at.isoformat() if subscription.disabled_at else ""
    queued = 0
    for address, person in sorted(people.items()):
        with translation.override(person.locale or settings.LANGUAGE_CODE):
            subject = _("Webhook “%(name)s” was disabled") % {"name": subscription.name}
            body = _("%(reason)s\n\nURL: %(url)s\nFix the receiver, then enable the webhook again and re-send the "
                     "failed deliveries: %(link)s") % {
                "reason": subscription.disabled_reason, "url": subscription.url,
                "link": f"{settings.SITE_URL}/integrations/webhooks/{subscription.pk}/"}
        queued += mail_queue(to=[address], subject=subject, body_text=body, kind="webhook_disabled",
                             source="integrations", dedupe_key=f"webhook_disabled:{subscription.pk}:{when}:{address}"
                             ) is not None
    return queued
