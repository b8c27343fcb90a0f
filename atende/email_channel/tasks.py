"""Background work for the email channel: fetching and crash recovery (ticket events reach notifications through ``email_channel.subscribers``) (mail is sent by the
outbound engine, atende/outbound).

Every task takes ids or a plain payload, re-reads rows, and is safe to run twice.
"""

import logging

from django_tasks import task

from atende.email_channel.services import (
    inbound_process,
    inbound_retry_stale,
)
from atende.email_channel.services.imap import mailboxes_fetch

logger = logging.getLogger(__name__)


@task(queue_name="mail")
def inbound_process_task(inbound_id: int) -> str:
    return inbound_process(inbound_id=inbound_id).status


@task(queue_name="mail")
def mailboxes_fetch_task() -> int:
    """Fetch every IMAP mailbox once (polling; ``atende mail-fetch --watch`` uses IDLE), then retry messages
    stored but never processed (a process died in between)."""
    stored = mailboxes_fetch()
    inbound_retry_stale()
    return stored
