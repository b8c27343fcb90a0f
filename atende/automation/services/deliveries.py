"""Emails and webhooks sent by automations: recorded with the change, sent after commit, retried with backoff."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import urllib.request
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from atende.automation.choices import DeliveryKind, DeliveryStatus
from atende.automation.models import Delivery
from atende.rules.placeholders import render
from atende.tickets.models import Ticket

logger = logging.getLogger(__name__)

BACKOFF_MINUTES = [1, 5, 15, 60, 180, 720]
MAX_ATTEMPTS = len(BACKOFF_MINUTES) + 1
LEASE = dt.timedelta(minutes=5)


def _recipients(ticket: Ticket, to: str) -> list[str]:
    if to == "requester":
        return [ticket.requester.email]
    if to == "assignee":
        return [ticket.assignee.email] if ticket.assignee_id else []
    if to == "team":
        if not ticket.team_id:
            return []
        if ticket.team.email:
            return [ticket.team.email]
        return list(ticket.team.members.filter(is_active=True).values_list("email", flat=True))
    return [to]


def delivery_create(*, ticket: Ticket, action: dict[str, Any], origin: dict[str, Any], agent=None) -> Delivery | None:
    """Record the email/webhook in the current transaction; a task sends it once that commits."""
    if action["type"] == "send_email":
        recipients = _recipients(ticket, action["to"])
        if not recipients:
            return None
        payload = {"to": recipients, "subject": render(action["subject"], ticket=ticket, agent=agent),
                   "body": render(action["body"], ticket=ticket, agent=agent),
                   "headers": {"Auto-Submitted": "auto-generated"}}
        kind = DeliveryKind.EMAIL
    else:
        payload = {"url": action["url"], "secret": action.get("secret", ""), "body": {
            "event": "automation", "origin": origin, "ticket": {
                "id": ticket.pk, "number": ticket.number, "subject": ticket.subject, "status": ticket.status,
                "priority": ticket.priority, "team_id": ticket.team_id, "assignee_id": ticket.assignee_id,
                "requester": ticket.requester.email}}}
        kind = DeliveryKind.WEBHOOK
    delivery = Delivery.objects.create(kind=kind, ticket=ticket, payload=payload, origin=origin)
    transaction.on_commit(lambda: _enqueue(delivery.pk))
    return delivery


def _enqueue(delivery_id: int) -> None:
    from atende.automation.tasks import delivery_attempt_task

    try:
        delivery_attempt_task.enqueue(delivery_id)
    except Exception:  # the minute job retries anything left pending
        logger.exception("could not enqueue delivery %s", delivery_id)


def _use_channel_queues() -> bool:
    """Hand emails/webhooks to the email channel's and integrations' own queues (with their logs and retries)
    when those apps provide them; otherwise send here, with this module's retries."""
    return getattr(settings, "AUTOMATION_USE_CHANNEL_QUEUES", True)


def _send_email(delivery: Delivery) -> None:
    payload = delivery.payload
    mail_queue = None
    if _use_channel_queues():
        try:
            from atende.email_channel.services.outbound import mail_queue
        except ImportError:
            mail_queue = None
    if mail_queue is not None:
        with transaction.atomic():
            mail_queue(to=payload["to"], subject=payload["subject"], body_text=payload["body"],
                       ticket=delivery.ticket, kind="automation", dedupe_key=f"automation-delivery:{delivery.pk}")
        return
    EmailMessage(subject=payload["subject"], body=payload["body"], from_email=settings.DEFAULT_FROM_EMAIL,
                 to=payload["to"], headers=payload.get("headers") or {}).send(fail_silently=False)


def _call_webhook(delivery: Delivery) -> None:
    payload = delivery.payload
    webhook_deliver_adhoc = None
    if _use_channel_queues():
        try:
            from atende.integrations.services import webhook_deliver_adhoc
        except ImportError:
            webhook_deliver_adhoc = None
    if webhook_deliver_adhoc is not None:
        with transaction.atomic():
            webhook_deliver_adhoc(url=payload["url"], payload=payload["body"], secret=payload.get("secret", ""))
        return
    body = json.dumps(payload["body"]).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Atende-Automation"}
    if payload.get("secret"):
        digest = hmac.new(payload["secret"].encode(), body, hashlib.sha256).hexdigest()
        headers["X-Atende-Signature"] = f"sha256={digest}"
    request = urllib.request.Request(payload["url"], data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (admin-configured http(s) URL)
        if response.status >= 300:
            raise OSError(f"HTTP {response.status}")


def delivery_attempt(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """Try one delivery. A lease (``next_attempt_at`` pushed forward) claims it, so two workers never both send;
    the network call happens outside any transaction."""
    now = now or timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now).update(
        next_attempt_at=now + LEASE, attempts=F("attempts") + 1)
    if not claimed:
        return "skipped"
    delivery = Delivery.objects.get(pk=delivery_id)
    try:
        if delivery.kind == DeliveryKind.EMAIL:
            _send_email(delivery)
        else:
            _call_webhook(delivery)
    except Exception as exc:  # any transport error: record it and retry later
        gave_up = delivery.attempts >= MAX_ATTEMPTS
        delay = BACKOFF_MINUTES[min(delivery.attempts - 1, len(BACKOFF_MINUTES) - 1)]
        Delivery.objects.filter(pk=delivery_id).update(
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            status=DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING,
            next_attempt_at=now + dt.timedelta(minutes=delay))
        logger.warning("automation delivery %s failed (attempt %s): %s", delivery_id, delivery.attempts, exc)
        return "failed" if gave_up else "retry"
    Delivery.objects.filter(pk=delivery_id).update(status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error="")
    return "sent"


def deliveries_retry(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    now = now or timezone.now()
    ids = list(Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
               .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    for delivery_id in ids:
        delivery_attempt(delivery_id=delivery_id, now=now)
    return len(ids)
