"""Background work of the messaging connectors: fetching the media a message announced."""

from __future__ import annotations

import logging

from django_tasks import task

from atende.messaging.models import ConversationMessage
from atende.messaging.services.inbound import conversation_media_attach
from atende.messaging.transports import media_download

logger = logging.getLogger(__name__)


@task()
def media_fetch_task(row_id: int) -> int:
    """Download each file of an incoming message from its platform and attach it. Idempotent (a message that has
    its attachments gets nothing more); a failed download raises, and the queue retries it."""
    row = ConversationMessage.objects.select_related("message").filter(pk=row_id).first()
    if row is None or row.message is None:
        return 0
    media = ((row.message.metadata or {}).get("messaging") or {}).get("media") or []
    files = [media_download(platform=row.platform, media=item) for item in media]
    return len(conversation_media_attach(row=row, files=[f for f in files if f is not None]))
