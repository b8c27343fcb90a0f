"""Reads of the integrations app. Webhooks and privacy requests are administrators' business only."""

from __future__ import annotations

from django.db.models import QuerySet

from atende.accounts.models import User
from atende.core.exceptions import NotFound
from atende.integrations.models import WebhookSubscription
from atende.outbound.choices import DeliveryStatus as Status
from atende.outbound.models import Delivery
from atende.outbound.selectors import delivery_list

API_STATUS = {Status.PENDING: "pending", Status.SENDING: "pending", Status.FAILED: "failed", Status.SENT: "succeeded",
              Status.GIVEN_UP: "abandoned", Status.BOUNCED: "abandoned", Status.CANCELLED: "abandoned"}


def webhook_source(subscription_id: int) -> str:
    """How the outbound engine's deliveries of one webhook are tagged (``Delivery.source``)."""
    return f"webhook:{subscription_id}"


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
                                   ) -> QuerySet[Delivery]:
    """Webhook deliveries (the outbound engine's rows with transport ``webhook``), one webhook's when given."""
    if not user.is_authenticated or not user.is_admin:
        return Delivery.objects.none()
    if subscription is not None:
        return delivery_list(transport="webhook", source=webhook_source(subscription.pk))
    return delivery_list(transport="webhook")


def access_webhook_delivery(*, user: User, delivery_id: int) -> Delivery:
    found = webhook_delivery_list_for_user(user=user).filter(pk=delivery_id).prefetch_related("attempt_log").first()
    if found is None:
        raise NotFound("Delivery not found.")
    return found


def webhook_delivery_status(delivery: Delivery) -> str:
    """The status the API documents for a webhook delivery (pending, succeeded, failed or abandoned)."""
    return API_STATUS[delivery.status]


def webhook_delivery_statuses(api_status: str) -> list[str]:
    """The engine's statuses behind one documented status (for filtering)."""
    return [engine for engine, shown in API_STATUS.items() if shown == api_status]
