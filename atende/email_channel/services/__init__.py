"""Email channel writes. Other apps use ``mail_queue`` to send mail through the outbound engine."""

from atende.email_channel.services.inbound import (
    inbound_discard,
    inbound_process,
    inbound_reprocess,
    inbound_retry_stale,
    inbound_store,
    inbound_store_quarantined,
)
from atende.email_channel.services.notifications import notifications_for_event
from atende.email_channel.services.outbound import mail_queue

__all__ = [
    "inbound_discard",
    "inbound_process",
    "inbound_reprocess",
    "inbound_retry_stale",
    "inbound_store",
    "inbound_store_quarantined",
    "mail_queue",
    "notifications_for_event",
]
