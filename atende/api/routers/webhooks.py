"""Webhook subscriptions and their delivery log (administrators, admin-scoped tokens)."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from atende.api.auth import require_admin
from atende.api.listing import page_of
from atende.api.schemas import InputSchema, responses
from atende.core.actor import Actor
from atende.integrations.choices import WebhookEvent
from atende.integrations.selectors import (
    access_webhook_delivery,
    access_webhook_subscription,
    webhook_delivery_list_for_user,
    webhook_delivery_status,
    webhook_delivery_statuses,
    webhook_subscription_list_for_user,
)
from atende.integrations.services import (
    webhook_delivery_redeliver,
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_ping,
    webhook_subscription_update,
)

router = Router(tags=["webhooks"])


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    event_types: list[str]
    is_active: bool
    consecutive_failures: int
    disabled_at: datetime.datetime | None
    disabled_reason: str
    created_at: datetime.datetime


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(..., description="The signing secret (shown at creation and when rotated).")


class WebhookIn(InputSchema):
    name: str = Field(..., max_length=100)
    url: str = Field(..., max_length=500)
    event_types: list[str] = Field(..., description=f"Any of: *, {', '.join(WebhookEvent.values)}.")


class WebhookUpdateIn(InputSchema):
    name: str | None = Field(None, max_length=100)
    url: str | None = Field(None, max_length=500)
    event_types: list[str] | None = None
    is_active: bool | None = None
    rotate_secret: bool = False


class AttemptOut(Schema):
    number: int
    status_code: int | None
    error: str
    duration_ms: int
    created_at: datetime.datetime


class DeliveryOut(Schema):
    id: int
    webhook_id: int | None
    event_type: str
    event_id: int | None
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    last_attempt_at: datetime.datetime | None
    next_attempt_at: datetime.datetime | None
    delivered_at: datetime.datetime | None
    created_at: datetime.datetime
    payload: dict[str, Any]
    attempt_log: list[AttemptOut] = []


class DeliveryPageOut(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None
    has_next: bool


class DeliveryQuery(Schema):
    cursor: str | None = None
    size: int = Field(50, ge=1, le=100)
    status: str | None = Field(None, max_length=10, description="pending, succeeded, failed or abandoned.")


def _webhook(sub, *, with_secret: bool = False) -> dict[str, Any]:
    data = {"id": sub.pk, "name": sub.name, "url": sub.url, "event_types": sub.event_types,
            "is_active": sub.is_active, "consecutive_failures": sub.consecutive_failures,
            "disabled_at": sub.disabled_at, "disabled_reason": sub.disabled_reason, "created_at": sub.created_at}
    if with_secret:
        data["secret"] = sub.secret
    return data


def _delivery(delivery, *, with_attempts: bool = False) -> dict[str, Any]:
    data = {"id": delivery.pk, "webhook_id": delivery.payload.get("subscription_id"), "event_type": delivery.kind,
            "event_id": delivery.event_id, "status": webhook_delivery_status(delivery),
            "attempts": delivery.attempts, "last_status_code": delivery.last_status_code,
            "last_error": delivery.last_error[:500], "last_attempt_at": delivery.last_attempt_at,
            "next_attempt_at": delivery.next_attempt_at, "delivered_at": delivery.sent_at,
            "created_at": delivery.created_at, "payload": delivery.payload.get("body", {})}
    if with_attempts:
        data["attempt_log"] = [{"number": a.number, "status_code": a.status_code, "error": a.error,
                                "duration_ms": a.duration_ms, "created_at": a.created_at}
                               for a in delivery.attempt_log.all()]
    return data


@router.get("/webhooks", response=responses(list[WebhookOut]), summary="List webhooks")
def webhook_list(request: HttpRequest):
    require_admin(request)
    return [_webhook(s) for s in webhook_subscription_list_for_user(user=request.user)]


@router.post("/webhooks", response=responses(WebhookCreatedOut, 201), summary="Subscribe a URL to events")
def webhook_create(request: HttpRequest, payload: WebhookIn):
    require_admin(request)
    sub = webhook_subscription_create(actor=Actor.for_user(request.user), name=payload.name, url=payload.url,
                                      event_types=payload.event_types)
    return 201, _webhook(sub, with_secret=True)


@router.get("/webhooks/{webhook_id}", response=responses(WebhookOut), summary="Read a webhook")
def webhook_read(request: HttpRequest, webhook_id: int):
    require_admin(request)
    return _webhook(access_webhook_subscription(user=request.user, subscription_id=webhook_id))


@router.patch("/webhooks/{webhook_id}", response=responses(WebhookCreatedOut), summary="Change a webhook")
def webhook_update(request: HttpRequest, webhook_id: int, payload: WebhookUpdateIn):
    """Enabling a disabled webhook clears its failure count. ``rotate_secret`` returns a new secret."""
    require_admin(request)
    sub = access_webhook_subscription(user=request.user, subscription_id=webhook_id)
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    rotate = changes.pop("rotate_secret", False)
    sub = webhook_subscription_update(actor=Actor.for_user(request.user), subscription=sub, changes=changes,
                                      rotate_secret=rotate)
    return _webhook(sub, with_secret=True)


@router.delete("/webhooks/{webhook_id}", response=responses({204: None}), summary="Delete a webhook")
def webhook_delete(request: HttpRequest, webhook_id: int):
    require_admin(request)
    sub = access_webhook_subscription(user=request.user, subscription_id=webhook_id)
    webhook_subscription_delete(actor=Actor.for_user(request.user), subscription=sub)
    return 204, None


@router.post("/webhooks/{webhook_id}/ping", response=responses(DeliveryOut, 202), summary="Send a test event")
def webhook_ping(request: HttpRequest, webhook_id: int):
    require_admin(request)
    sub = access_webhook_subscription(user=request.user, subscription_id=webhook_id)
    return 202, _delivery(webhook_subscription_ping(actor=Actor.for_user(request.user), subscription=sub))


@router.get("/webhooks/{webhook_id}/deliveries", response=responses(DeliveryPageOut),
            summary="A webhook's deliveries, newest first")
def delivery_list(request: HttpRequest, webhook_id: int, query: Query[DeliveryQuery]):
    require_admin(request)
    sub = access_webhook_subscription(user=request.user, subscription_id=webhook_id)
    qs = webhook_delivery_list_for_user(user=request.user, subscription=sub)
    if query.status:
        qs = qs.filter(status__in=webhook_delivery_statuses(query.status))
    return page_of(qs, order="-id", cursor=query.cursor, size=query.size, serialize=_delivery)


@router.get("/webhook-deliveries/{delivery_id}", response=responses(DeliveryOut),
            summary="A delivery with its attempts")
def delivery_read(request: HttpRequest, delivery_id: int):
    require_admin(request)
    return _delivery(access_webhook_delivery(user=request.user, delivery_id=delivery_id), with_attempts=True)


@router.post("/webhook-deliveries/{delivery_id}/redeliver", response=responses(DeliveryOut, 202),
             summary="Send a delivery again")
def delivery_redeliver(request: HttpRequest, delivery_id: int):
    require_admin(request)
    delivery = access_webhook_delivery(user=request.user, delivery_id=delivery_id)
    delivery = webhook_delivery_redeliver(actor=Actor.for_user(request.user), delivery=delivery)
    return 202, _delivery(delivery)
