"""Reads of the integrations app. Webhooks and privacy requests are administrators' business only."""

from __future__ import annotations

from django.db.models import QuerySet

from atende.accounts.models import User
from atende.core.exceptions import NotFound
from atende.integrations.models import WebhookDelivery, WebhookSubscription


def webhook_subscription_list_for_user(*, user: User) -> QuerySet[WebhookSubscription]:
    if not user.is_authenticated or not user.is_admin:
        return WebhookSubscription.objects.none()
    return WebhookSubscription.objects.all()


def access_webhook_subscription(*, user: User, subscription_id: int) -> WebhookSubscription:
    found = webhook_subscription_list_for_user(user=user).filter(pk=subscription_id).first()
    if found is None:
        raise NotFound("Webhook not found.")
    return found


def webhook_delivery_list_for_user(*, user: User, subscription: WebhookSubscription | None = None
                                   ) -> QuerySet[WebhookDelivery]:
    if not user.is_authenticated or not user.is_admin:
        return WebhookDelivery.objects.none()
    qs = WebhookDelivery.objects.select_related("subscription")
    return qs.filter(subscription=subscription) if subscription is not None else qs


def access_webhook_delivery(*, user: User, delivery_id: int) -> WebhookDelivery:
    found = webhook_delivery_list_for_user(user=user).filter(pk=delivery_id).prefetch_related("attempt_log").first()
    if found is None:
        raise NotFound("Delivery not found.")
    return found
