"""What people and other apps do to queued deliveries: retry, cancel, mark bounced, resume or discard a source's."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from atende.core.actor import Actor
from atende.core.exceptions import Conflict
from atende.core.tasks import enqueue
from atende.outbound.choices import FINAL_STATUSES, WAITING_STATUSES, DeliveryStatus
from atende.outbound.models import Delivery
from atende.outbound.services.enqueue import _key, _send_after_commit

logger = logging.getLogger(__name__)


@transaction.atomic
def delivery_retry(*, delivery: Delivery, actor: Actor) -> Delivery:
    """Send again (after the receiver is fixed): due now, keeping its attempt log. One more failure after the
    last attempt gives up again."""
    row = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if row.status == DeliveryStatus.SENDING:
        raise Conflict("This delivery is being sent right now.", code="delivery_sending")
    row.status, row.next_attempt_at = DeliveryStatus.PENDING, timezone.now()
    row.save(update_fields=["status", "next_attempt_at"])
    _send_after_commit(row.pk)
    return row


@transaction.atomic
def delivery_cancel(*, delivery: Delivery, actor: Actor) -> Delivery:
    row = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if row.status not in FINAL_STATUSES:
        row.status, row.next_attempt_at, row.lease_until, row.lease_token = DeliveryStatus.CANCELLED, None, None, ""
        row.last_error = f"cancelled by {actor.user.email if actor.user else actor.kind}"
        row.save(update_fields=["status", "next_attempt_at", "lease_until", "lease_token", "last_error"])
    return row


@transaction.atomic
def delivery_mark_bounced(*, reason: str, message_id_header: str = "", key: str = "") -> Delivery | None:
    """A delivery the far side reported as undeliverable after accepting it (a mail bounce): found by the
    Message-ID it was sent with (with or without angle brackets) or by its key. None when it is not ours."""
    rows = Delivery.objects.select_for_update()
    if message_id_header:
        bare = message_id_header.strip().strip("<>")
        row = rows.filter(external_id__in=[f"<{bare}>", bare]).order_by("-id").first()
    elif key:
        row = rows.filter(key=_key(key)).first()
    else:
        return None
    if row is None:
        return None
    row.status, row.next_attempt_at, row.last_error = DeliveryStatus.BOUNCED, None, reason[:2000]
    row.save(update_fields=["status", "next_attempt_at", "last_error"])
    return row


@transaction.atomic
def deliveries_resume(*, source: str) -> int:
    """Make held deliveries of ``source`` due again (its webhook was enabled again)."""
    count = Delivery.objects.filter(source=source, status__in=WAITING_STATUSES, next_attempt_at__isnull=True).update(
        next_attempt_at=timezone.now())
    if count:
        transaction.on_commit(_drain_soon)
    return count


def _drain_soon() -> None:
    try:
        enqueue("atende.outbound.tasks.deliveries_drain_task")
    except Exception:
        logger.exception("could not enqueue the outbound drain")


@transaction.atomic
def deliveries_discard(*, source: str) -> int:
    """Delete every delivery of ``source`` with its attempts (its webhook was deleted)."""
    count, _ = Delivery.objects.filter(source=source).delete()
    return count
