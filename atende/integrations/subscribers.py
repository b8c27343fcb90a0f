"""The webhooks events subscriber (``core/events.py``): one outbound delivery per interested webhook and event,
keyed by event and webhook (so a batch handed over again creates nothing), written set-wise in the dispatcher's
transaction (``webhook_deliveries_create_for_events``); the outbound engine sends and retries it."""

from __future__ import annotations

from typing import Any

from atende.integrations.models import WebhookSubscription
from atende.integrations.services.webhooks import webhook_deliveries_create_for_events


def webhooks_on_events(events: list[dict[str, Any]]) -> None:
    subscriptions = list(WebhookSubscription.objects.filter(is_active=True))
    if subscriptions:
        webhook_deliveries_create_for_events(events=events, subscriptions=subscriptions)
