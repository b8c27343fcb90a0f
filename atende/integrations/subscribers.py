"""The webhooks events subscriber (``core/events.py``): one delivery row per interested webhook and event (unique
per subscription and event), written in the dispatcher's transaction; each is sent by its own task, enqueued with the batch,
and the minute job sends any whose task was lost."""

from __future__ import annotations

from typing import Any

from atende.core.outbox.worker import enqueue_with_batch
from atende.integrations.models import WebhookSubscription
from atende.integrations.services import webhook_deliveries_create_for_event


def webhooks_on_events(events: list[dict[str, Any]]) -> None:
    if not WebhookSubscription.objects.filter(is_active=True).exists():
        return
    due: list[int] = []
    for payload in events:
        due += webhook_deliveries_create_for_event(event=payload)
    if due:
        from atende.integrations.tasks import webhook_send_task  # tasks import this app's services

        for pk in due:
            enqueue_with_batch(webhook_send_task, pk)
