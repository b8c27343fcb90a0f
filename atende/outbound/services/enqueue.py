"""Queueing deliveries: idempotent by key, one insert for a batch, handed to the worker once the transaction
commits (one task for all the deliveries an events batch queues; in the events worker's pass, one for all the
pass's batches, queued when it ends)."""

from __future__ import annotations

import copy
import hashlib
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from atende.core.memo import batch_cached
from atende.core.outbox import passes
from atende.core.tasks import enqueue
from atende.outbound.models import Delivery
from atende.outbound.transports import transport_get

logger = logging.getLogger(__name__)
SEND_TASK = "atende.outbound.tasks.deliveries_send_task"


def _key(key: str | None) -> str | None:
    if not key:
        return None
    return key if len(key) <= 255 else hashlib.sha256(key.encode()).hexdigest()


def _send_soon(delivery_ids: list[int]) -> None:
    try:
        enqueue(SEND_TASK, delivery_ids)
    except Exception:  # the periodic drain sends anything left pending
        logger.exception("could not enqueue outbound deliveries %s", delivery_ids)


class _SendAfterCommit:
    """Deliveries to hand to the worker as one task once the transaction commits."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self._seen: list | None = None
        transaction.on_commit(self)
        self._seen = transaction.get_connection().run_on_commit

    def __call__(self) -> None:
        if not passes.enqueue_after(SEND_TASK, self.ids):
            _send_soon(self.ids)

    def still_registered(self) -> bool:
        """False once a savepoint rollback dropped this callback (Django then rebuilds its list of callbacks)."""
        callbacks = transaction.get_connection().run_on_commit
        if callbacks is not self._seen:
            if not any(func is self for _sids, func, _robust in callbacks):
                return False
            self._seen = callbacks
        return True


def _send_after_commit(delivery_id: int) -> None:
    """Inside an events batch (``core.memo.batch_scope``) the deliveries the batch queues go to the worker as one
    task: a batch queuing hundreds of emails makes one task, not hundreds. Elsewhere, one task per delivery."""
    holder = batch_cached("outbound.send_after_commit", dict)
    callback = holder.get("callback")
    if callback is None or not callback.still_registered():
        callback = holder["callback"] = _SendAfterCommit()
    callback.ids.append(delivery_id)


def delivery_enqueue(*, transport: str, target: str, payload: dict[str, Any], key: str | None = None,
                     ticket_id: int | None = None, source: str = "", kind: str = "", event_id: int | None = None,
                     external_id: str = "", max_attempts: int | None = None) -> Delivery:
    """Queue one delivery, sent after the surrounding transaction commits. With ``key`` (by convention
    ``"<event id>:<subscriber>:<recipient>"``) a second call returns the existing row and sends nothing more;
    ``delivery.created`` tells the two apart."""
    return deliveries_enqueue([{
        "transport": transport, "target": target, "payload": payload, "key": key, "ticket_id": ticket_id,
        "source": source, "kind": kind, "event_id": event_id, "external_id": external_id,
        "max_attempts": max_attempts}])[0]


@transaction.atomic
def deliveries_enqueue(items: list[dict[str, Any]]) -> list[Delivery]:
    """Queue many deliveries (each item the arguments of ``delivery_enqueue``) with one read of the keys that
    exist and one insert; the rows, in the order of ``items``, each with ``created``. A key that exists, or
    comes twice in ``items``, is queued once: replaying a batch sends nothing twice."""
    keys = [_key(item.get("key")) for item in items]
    existing = {d.key: d for d in Delivery.objects.filter(key__in=[k for k in keys if k])} if any(keys) else {}
    new: dict[str | int, Delivery] = {}
    for n, (item, key) in enumerate(zip(items, keys, strict=True)):
        sender = transport_get(item["transport"])  # an unknown transport fails here, in the caller's transaction
        if key in existing or key in new:
            continue
        new[key or n] = _row(item, key, sender.max_attempts())
    if new:
        try:
            with transaction.atomic():
                Delivery.objects.bulk_create(list(new.values()))
        except IntegrityError:  # a key queued concurrently: take the rows one at a time
            return [_enqueue_one(item, key) for item, key in zip(items, keys, strict=True)]
    out = []
    for n, key in enumerate(keys):
        row = new.pop(key or n, None)
        if row is not None:
            row.created = True
            _send_after_commit(row.pk)
        else:
            row = copy.copy(existing.get(key) or next(d for d in out if d.key == key))
            row.created = False
        out.append(row)
    return out


def _row(item: dict[str, Any], key: str | None, default_attempts: int) -> Delivery:
    return Delivery(transport=item["transport"], target=item["target"][:500], payload=item["payload"], key=key,
                    ticket_id=item.get("ticket_id"), source=(item.get("source") or "")[:60],
                    kind=(item.get("kind") or "")[:40], event_id=item.get("event_id"),
                    external_id=item.get("external_id") or "",
                    max_attempts=item.get("max_attempts") or default_attempts, next_attempt_at=timezone.now())


def _enqueue_one(item: dict[str, Any], key: str | None) -> Delivery:
    existing = Delivery.objects.filter(key=key).first() if key else None
    if existing is not None:
        existing.created = False
        return existing
    row = _row(item, key, transport_get(item["transport"]).max_attempts())
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # the same key queued concurrently
        row = Delivery.objects.get(key=key)
        row.created = False
        return row
    row.created = True
    _send_after_commit(row.pk)
    return row
