"""The webhooks events subscriber (``core/events.py``): one outbound delivery per interested webhook and event,
keyed by event and webhook (so a batch handed over again creates nothing), written set-wise in the dispatcher's
transaction (``webhook_deliveries_create_for_events``); the outbound engine sends and retries it.

The active webhooks are read once per batch; an event of a type none of them wants costs a dictionary look-up
(no payload built, no delivery row). Event types no webhook can subscribe to are never handed over at all."""

from __future__ import annotations

from typing import Any

from atende.integrations.choices import EVENT_MAP
from atende.integrations.models import WebhookSubscription
from atende.integrations.services.webhooks import webhook_deliveries_create_for_events
from atende.tickets.choices import TicketEventType

# Types with no webhook event (``EVENT_MAP``): the dispatcher moves the cursor past them (``core.events``).
EVENTS_IGNORED = frozenset(TicketEventType.values) - frozenset(EVENT_MAP)


def webhooks_on_events(events: list[dict[str, Any]]) -> None:
    subscriptions = list(WebhookSubscription.objects.filter(is_active=True))
    if subscriptions:
        webhook_deliveries_create_for_events(events=events, subscriptions=subscriptions)
