"""Worker tasks: fan ticket events out to webhooks, send deliveries, retry the due ones, warn about disabling."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from atende.accounts.selectors import agent_list
from atende.integrations.choices import DeliveryStatus
from atende.integrations.models import WebhookDelivery, WebhookSubscription
from atende.integrations.sender import webhook_deliver
from atende.integrations.services import webhook_deliveries_create_for_event

RETRY_BATCH = 200


@task()
def webhooks_on_event_task(payload: dict) -> int:
    """Subscriber of every ticket event (core/events.py): one delivery per interested webhook, each sent by
    its own task so a slow receiver does not hold up the others."""
    ids = webhook_deliveries_create_for_event(event=payload)
    for delivery_id in ids:
        webhook_send_task.enqueue(delivery_id)
    return len(ids)


@task()
def webhook_send_task(delivery_id: int) -> str | None:
    return webhook_deliver(delivery_id)


@task()
def webhooks_retry_task() -> int:
    """Every minute (core/scheduler.py): send deliveries whose next attempt is due (failed ones back off
    exponentially; a claimed one whose worker died becomes due again after its lease)."""
    due = list(WebhookDelivery.objects.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED], next_attempt_at__lte=timezone.now(),
    ).exclude(subscription__is_active=False).order_by("next_attempt_at").values_list("id", flat=True)[:RETRY_BATCH])
    for delivery_id in due:
        webhook_deliver(delivery_id)
    return len(due)


@task()
def webhook_disabled_notice_task(subscription_id: int) -> int:
    """Tell the administrators (and whoever created it) that a webhook was switched off, and why."""
    subscription = WebhookSubscription.objects.select_related("created_by").filter(pk=subscription_id).first()
    if subscription is None or subscription.is_active:
        return 0
    recipients = {u.email for u in agent_list() if u.is_admin}
    if subscription.created_by is not None and subscription.created_by.is_active:
        recipients.add(subscription.created_by.email)
    if not recipients:
        return 0
    subject = _("Webhook “%(name)s” was disabled") % {"name": subscription.name}
    body = _("%(reason)s\n\nURL: %(url)s\nFix the receiver, then enable the webhook again and re-send the failed "
             "deliveries: %(link)s") % {"reason": subscription.disabled_reason, "url": subscription.url,
                                        "link": f"{settings.SITE_URL}/integrations/webhooks/{subscription.pk}/"}
    return send_mail(subject, body, None, sorted(recipients))
