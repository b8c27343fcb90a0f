"""Writes of the integrations app. Import from here: ``from atende.integrations.services import …``."""

from atende.integrations.services.webhooks import (
    webhook_adhoc_item,
    webhook_deliver_adhoc,
    webhook_deliveries_create_for_event,
    webhook_delivery_redeliver,
    webhook_disabled_notify,
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_ping,
    webhook_subscription_update,
)

__all__ = [
    "webhook_adhoc_item",
    "webhook_deliver_adhoc",
    "webhook_deliveries_create_for_event",
    "webhook_delivery_redeliver",
    "webhook_disabled_notify",
    "webhook_subscription_create",
    "webhook_subscription_delete",
    "webhook_subscription_ping",
    "webhook_subscription_update",
]
