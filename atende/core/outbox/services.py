"""An admin's hand on the dead-letter list: retry a parked (or skipped) event, or discard it."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from atende.core.actor import Actor
from atende.core.exceptions import Conflict, NotFound
from atende.core.models import EventRetry, EventRetryState

logger = logging.getLogger(__name__)


def _get(retry_id: int, states: list[str]) -> EventRetry:
    row = EventRetry.objects.select_for_update().filter(pk=retry_id).first()
    if row is None:
        raise NotFound(f"No parked event {retry_id}.")
    if row.state not in states:
        raise Conflict(f"Event {row.event_id} for {row.subscriber} is {row.state}, not parked.", code="not_parked")
    return row


@transaction.atomic
def parked_event_retry(*, actor: Actor, retry_id: int) -> EventRetry:
    """Back to waiting, due now, attempts reset: the next worker pass runs it again."""
    row = _get(retry_id, [EventRetryState.PARKED, EventRetryState.SKIPPED])
    row.state, row.attempts, row.next_attempt_at = EventRetryState.WAITING, 0, timezone.now()
    row.save(update_fields=["state", "attempts", "next_attempt_at", "updated_at"])
    logger.info("%s retries event %s for %s", actor, row.event_id, row.subscriber)
    return row


@transaction.atomic
def parked_event_discard(*, actor: Actor, retry_id: int) -> EventRetry:
    """Give up on it for good (kept, marked discarded, so the record stays)."""
    row = _get(retry_id, [EventRetryState.PARKED, EventRetryState.SKIPPED])
    row.state = EventRetryState.DISCARDED
    row.save(update_fields=["state", "updated_at"])
    logger.info("%s discards event %s for %s", actor, row.event_id, row.subscriber)
    return row
