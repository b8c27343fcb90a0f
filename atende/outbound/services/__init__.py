"""The delivery engine: enqueue (idempotent by key), claim with a lease, send through the transport outside
any transaction, record a batch's results together, retry with exponential backoff and jitter, give up after the
last one."""

from atende.outbound.services.enqueue import deliveries_enqueue, delivery_enqueue
from atende.outbound.services.manage import (
    deliveries_discard,
    deliveries_resume,
    delivery_cancel,
    delivery_mark_bounced,
    delivery_retry,
)
from atende.outbound.services.record import BACKOFF_CAP, backoff_delay, outcomes_record
from atende.outbound.services.send import (
    BATCH_SIZE,
    MAX_BATCHES,
    RECORD_EVERY,
    deliveries_claim,
    deliveries_drain,
    deliveries_send,
    delivery_send,
)

__all__ = [
    "BACKOFF_CAP", "BATCH_SIZE", "MAX_BATCHES", "RECORD_EVERY", "backoff_delay", "deliveries_claim", "deliveries_discard",
    "deliveries_drain", "deliveries_enqueue", "deliveries_resume", "deliveries_send", "delivery_cancel",
    "delivery_enqueue", "delivery_mark_bounced", "delivery_retry", "delivery_send",
    "outcomes_record",
]
