"""The webhooks events subscriber (``core/events.py``): one outbound delivery per interested webhook and event,
keyed by event and webhook (so a batch handed over again creates nothing), written in the dispatcher's
transaction; the outbound engine sends and retries it."""

from __future__ import annotations

from typing import Any

from atende.integrations.models import WebhookSubscription
from atende.integrations.services import webhook_deliveries_create_for_event


def webhooks_on_events(events: list[dict[str, Any]]) -> None:
    if not WebhookSubscription.objects.filter(is_active=True).exists():
        return
    for payload in events:
        webhook_deliveries_create_for_event(event=payload)
