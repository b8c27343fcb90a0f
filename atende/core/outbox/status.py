"""How far behind each events subscriber is (``atende events status``, the admin page, ``/healthz``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Min, Q
from django.db.models.functions import Mod
from django.utils import timezone

from atende.core.events import SUBSCRIBERS
from atende.core.models import EventRetry, EventRetryState, SubscriberCursor
from atende.core.outbox.dispatch import event_model


@dataclass
class SubscriberStatus:
    name: str
    after: tuple[str, ...]
    position: int = 0
    lag_events: int = 0
    lag_seconds: float = 0.0
    oldest_event_id: int | None = None
    oldest_at: dt.datetime | None = None
    per_second: float = 0.0
    processed_total: int = 0
    waiting: int = 0
    parked: int = 0
    skipped: int = 0
    gaps: int = 0
    leases: list[str] = field(default_factory=list)
    started: bool = True


def _unprocessed(cursor: SubscriberCursor):
    events = event_model().objects.filter(id__gt=cursor.position, backfill=False)
    if cursor.partitions > 1:
        events = events.annotate(part=Mod("ticket_id", cursor.partitions)).filter(part=cursor.partition)
    return events


def subscriber_status(*, count_limit: int = 1_000_000, now: dt.datetime | None = None) -> list[SubscriberStatus]:
    now = now or timezone.now()
    cursors: dict[str, list[SubscriberCursor]] = {}
    for cursor in SubscriberCursor.objects.order_by("subscriber", "partition"):
        cursors.setdefault(cursor.subscriber, []).append(cursor)
    retries = {(r["subscriber"], r["state"]): (r["n"], r["first"]) for r in EventRetry.objects.values(
        "subscriber", "state").annotate(n=Count("id"), first=Min("event_id"))}
    model = event_model()
    result = []
    for sub in SUBSCRIBERS:
        status = SubscriberStatus(name=sub.name, after=sub.after)
        rows = cursors.get(sub.name, [])
        if not rows:
            status.started = False
            first = model.objects.filter(backfill=False).order_by("id").values_list("id", "created_at").first()
            status.lag_events = model.objects.filter(backfill=False).count()
            if first:
                status.oldest_event_id, status.oldest_at = first
        oldest: list[tuple[int, dt.datetime]] = []
        for cursor in rows:
            status.position = min(status.position or cursor.position, cursor.position)
            status.per_second += cursor.recent_rate
            status.processed_total += cursor.processed_total
            status.gaps += len(cursor.gaps)
            if cursor.lease_owner and cursor.lease_until and cursor.lease_until > now:
                status.leases.append(f"{cursor.partition}:{cursor.lease_owner}")
            pending = _unprocessed(cursor)
            status.lag_events += pending[:count_limit].count()
            first = pending.order_by("id").values_list("id", "created_at").first()
            if first:
                oldest.append(first)
        status.waiting, first_waiting = retries.get((sub.name, EventRetryState.WAITING), (0, None))
        status.parked = retries.get((sub.name, EventRetryState.PARKED), (0, None))[0]
        status.skipped = retries.get((sub.name, EventRetryState.SKIPPED), (0, None))[0]
        status.lag_events += status.waiting
        if first_waiting is not None:
            at = model.objects.filter(pk=first_waiting).values_list("created_at", flat=True).first()
            if at is not None:
                oldest.append((first_waiting, at))
        if oldest:
            status.oldest_event_id, status.oldest_at = min(oldest, key=lambda pair: pair[1])
        if status.oldest_at is not None:
            status.lag_seconds = max(0.0, round((now - status.oldest_at).total_seconds(), 1))
        result.append(status)
    return result


def max_lag_seconds(*, now: dt.datetime | None = None) -> float:
    """The largest lag in seconds over all subscribers: the age of the oldest event one of them has not done."""
    now = now or timezone.now()
    model = event_model()
    worst: dt.datetime | None = None
    for cursor in SubscriberCursor.objects.all():
        at = _unprocessed(cursor).order_by("id").values_list("created_at", flat=True).first()
        if at is not None and (worst is None or at < worst):
            worst = at
    first_waiting = EventRetry.objects.filter(state=EventRetryState.WAITING).aggregate(m=Min("event_id"))["m"]
    if first_waiting is not None:
        at = model.objects.filter(pk=first_waiting).values_list("created_at", flat=True).first()
        if at is not None and (worst is None or at < worst):
            worst = at
    return max(0.0, (now - worst).total_seconds()) if worst else 0.0


def events_health() -> dict:
    lag = max_lag_seconds()
    threshold = float(getattr(settings, "ATENDE_EVENTS_LAG_DEGRADED_SECONDS", 300))
    parked = EventRetry.objects.filter(Q(state=EventRetryState.PARKED)).count()
    return {"lag_seconds": round(lag, 1), "lag_threshold_seconds": threshold, "parked": parked,
            "degraded": lag > threshold}
