"""Worker tasks of integrations (ticket events reach webhooks through ``integrations.subscribers``; deliveries are
sent and retried by the outbound engine). The notice that a webhook was disabled is queued as mail deliveries when
it is disabled (``services.webhook_disabled_notify``); the task below only serves notices queued by a version
before that, and can go in the next release."""

from __future__ import annotations

from django_tasks import task

from atende.integrations.models import WebhookSubscription
from atende.integrations.services import webhook_disabled_notify


@task()
def webhook_disabled_notice_task(subscription_id: int) -> int:
    subscription = WebhookSubscription.objects.select_related("created_by").filter(pk=subscription_id).first()
    return webhook_disabled_notify(subscription=subscription) if subscription is not None else 0
