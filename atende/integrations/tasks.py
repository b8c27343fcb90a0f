"""Worker tasks: warn about disabling (ticket events reach webhooks through ``integrations.subscribers``; deliveries
are sent and retried by the outbound engine)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import gettext as _
from django_tasks import task

from atende.accounts.selectors import agent_list
from atende.integrations.models import WebhookSubscription


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
