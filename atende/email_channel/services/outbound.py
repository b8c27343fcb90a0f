"""Outbound mail: ``mail_queue`` is the one entry point for other apps. It queues the mail as a delivery of the
outbound engine (transport ``mail``, email_channel/transports.py), which sends it after commit, retries with
backoff and, after the last failure, writes NOTIFICATION_FAILED on the ticket. Addresses marked undeliverable
(a permanent bounce or a spam complaint, docs/email.md "Bounces") are dropped here, for every kind of mail."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from atende.email_channel.selectors import undeliverable_among
from atende.email_channel.services.addresses import new_message_id
from atende.outbound.models import Delivery
from atende.outbound.services import delivery_enqueue
from atende.tickets.models import Ticket

logger = logging.getLogger(__name__)


@transaction.atomic
def mail_queue(
    *,
    to: Iterable[str],
    subject: str,
    body_text: str,
    body_html: str = "",
    from_email: str = "",
    reply_to: str = "",
    cc: Iterable[str] = (),
    headers: dict[str, str] | None = None,
    ticket: Ticket | None = None,
    ticket_message_id: int | None = None,
    event_id: int | None = None,
    kind: str = "",
    dedupe_key: str = "",
    message_id: str = "",
    attachment_ids: Iterable[int] = (),
    files: Iterable[tuple[str, bytes, str]] = (),
    auto_generated: bool = True,
    max_attempts: int | None = None,
    source: str = "",
    sensitive: bool = False,
) -> Delivery | None:
    """Queue one email; delivered after the surrounding transaction commits. With ``dedupe_key`` (e.g.
    ``"<event id>:<recipient>:<kind>"``) a second call returns None instead of queueing the same mail twice.
    ``auto_generated`` adds ``Auto-Submitted: auto-generated`` (RFC 3834) so auto-responders stay quiet.
    ``attachment_ids`` attaches ticket attachments; ``files`` attaches small generated files (filename, content,
    content type), stored with the queued mail. The mail is sent with ``message_id`` (generated when empty),
    kept as the delivery's ``external_id`` for threading and bounces. Undeliverable recipients are left out; with
    none left, nothing is queued (None). ``sensitive`` mails (a sign-in link, a password reset) have their body
    removed from the stored delivery once sent, so the link cannot be read back in the admin."""
    recipients = [a for a in dict.fromkeys(a.strip().lower() for a in to) if a]
    copies = [a for a in dict.fromkeys(a.strip().lower() for a in cc) if a and a not in recipients]
    dead = undeliverable_among([*recipients, *copies])
    if dead:
        logger.info("not mailing undeliverable %s (%s)", sorted(dead), kind or "mail")
        recipients = [a for a in recipients if a not in dead]
        copies = [a for a in copies if a not in dead]
    if not recipients:
        return None
    from_email = from_email or settings.DEFAULT_FROM_EMAIL
    domain = from_email.rsplit("@", 1)[-1].strip(">")
    all_headers = dict(headers or {})
    if auto_generated:
        all_headers.setdefault("Auto-Submitted", "auto-generated")
        all_headers.setdefault("X-Auto-Response-Suppress", "OOF, AutoReply")
    if ticket is not None:
        all_headers.setdefault("X-Atende-Ticket", str(ticket.number))
    payload = {
        "from_email": from_email, "reply_to": reply_to, "to": recipients, "cc": copies,
        "subject": " ".join(subject.split())[:998], "body_text": body_text, "body_html": body_html,
        "headers": all_headers, "attachment_ids": list(attachment_ids), "ticket_message_id": ticket_message_id,
        "files": [{"filename": name, "content_type": content_type,
                   "content": base64.b64encode(content).decode("ascii")} for name, content, content_type in files],
    }
    if sensitive:
        payload["sensitive"] = True
    delivery = delivery_enqueue(
        transport="mail", target=", ".join([*recipients, *copies]), payload=payload, key=dedupe_key or None,
        ticket_id=ticket.pk if ticket else None, source=source or "mail", kind=kind, event_id=event_id,
        external_id=message_id or new_message_id(ticket.pk if ticket else None, domain), max_attempts=max_attempts)
    return delivery if delivery.created else None
