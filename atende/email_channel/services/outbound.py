"""The outbound queue: every email Atende sends is a row first, then delivered with retries and backoff.

``mail_queue`` is the one entry point for other apps. Delivery records each attempt; after the last failure
the ticket gets a NOTIFICATION_FAILED event.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone

from atende.core.actor import Actor
from atende.email_channel.choices import OutboundStatus
from atende.email_channel.models import DeliveryAttempt, OutboundMessage
from atende.email_channel.services.addresses import new_message_id
from atende.tickets.choices import TicketEventType
from atende.tickets.models import Attachment, Ticket
from atende.tickets.services import record_event

logger = logging.getLogger(__name__)


def _retry_delay(attempts: int) -> timedelta:
    base = getattr(settings, "EMAIL_OUTBOUND_RETRY_BASE_SECONDS", 60)
    return timedelta(seconds=min(base * (2 ** max(attempts - 1, 0)), 6 * 3600))


def _dedupe(key: str) -> str:
    return key if len(key) <= 255 else hashlib.sha256(key.encode()).hexdigest()


def _enqueue(outbound_id: int) -> None:
    from atende.email_channel.tasks import outbound_send_task

    try:
        outbound_send_task.enqueue(outbound_id)
    except Exception:  # noqa: BLE001 - the periodic retry picks the row up
        logger.exception("could not enqueue outbound %s", outbound_id)


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
) -> OutboundMessage | None:
    """Queue one email; delivered after the surrounding transaction commits. With ``dedupe_key`` (e.g.
    ``"<event id>:<recipient>:<kind>"``) a second call returns None instead of queueing the same mail twice.
    ``auto_generated`` adds ``Auto-Submitted: auto-generated`` (RFC 3834) so auto-responders stay quiet.
    ``attachment_ids`` attaches ticket attachments; ``files`` attaches small generated files (filename, content,
    content type), stored with the queued mail."""
    recipients = [a for a in dict.fromkeys(a.strip().lower() for a in to) if a]
    copies = [a for a in dict.fromkeys(a.strip().lower() for a in cc) if a and a not in recipients]
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
    dedupe_key = _dedupe(dedupe_key) if dedupe_key else ""
    if dedupe_key and OutboundMessage.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    row = OutboundMessage(
        dedupe_key=dedupe_key, kind=kind[:30], ticket_id=ticket.pk if ticket else None,
        ticket_message_id=ticket_message_id, event_id=event_id, from_email=from_email, reply_to=reply_to,
        to=recipients, cc=copies, subject=" ".join(subject.split())[:998], body_text=body_text,
        body_html=body_html, headers=all_headers,
        message_id=message_id or new_message_id(ticket.pk if ticket else None, domain),
        attachment_ids=list(attachment_ids),
        files=[{"filename": name, "content_type": kind, "content": base64.b64encode(content).decode("ascii")}
               for name, content, kind in files],
        max_attempts=max_attempts or getattr(settings, "EMAIL_OUTBOUND_MAX_ATTEMPTS", 6),
        next_attempt_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # the same dedupe key queued concurrently
        return None
    transaction.on_commit(lambda: _enqueue(row.pk))
    return row


def _build(row: OutboundMessage, connection) -> EmailMultiAlternatives:
    headers = {"Message-ID": row.message_id, **row.headers}
    mail = EmailMultiAlternatives(
        subject=row.subject, body=row.body_text, from_email=row.from_email, to=row.to, cc=row.cc,
        reply_to=[row.reply_to] if row.reply_to else None, headers=headers, connection=connection,
    )
    if row.body_html:
        mail.attach_alternative(row.body_html, "text/html")
    for attachment in Attachment.objects.filter(pk__in=row.attachment_ids or []):
        try:
            with attachment.file.open("rb") as handle:
                mail.attach(attachment.filename, handle.read(), attachment.content_type)
        except OSError:
            logger.warning("attachment %s missing from storage; sent without it", attachment.pk)
    for item in row.files or []:
        mail.attach(item["filename"], base64.b64decode(item["content"]), item["content_type"])
    return mail


def _claim(outbound_id: int, *, force: bool) -> OutboundMessage | None:
    with transaction.atomic():
        row = OutboundMessage.objects.select_for_update().filter(pk=outbound_id).first()
        if row is None or row.is_final:
            return None
        now = timezone.now()
        stale = now - timedelta(minutes=10)
        if row.status == OutboundStatus.SENDING and row.next_attempt_at and row.next_attempt_at > stale:
            return None  # another worker is delivering it right now
        if not force and row.next_attempt_at and row.next_attempt_at > now:
            return None
        row.status = OutboundStatus.SENDING
        row.attempts += 1
        row.next_attempt_at = now
        row.save(update_fields=["status", "attempts", "next_attempt_at"])
        return row


def outbound_send(*, outbound_id: int, force: bool = False) -> OutboundMessage | None:
    """One delivery attempt (no-op when the row is sent, failed, claimed by another worker or not due)."""
    row = _claim(outbound_id, force=force)
    if row is None:
        return OutboundMessage.objects.filter(pk=outbound_id).first()
    error = ""
    try:
        connection = get_connection(fail_silently=False)
        _build(row, connection).send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any transport error is recorded and retried
        error = f"{exc.__class__.__name__}: {exc}"[:2000]
    return _record_attempt(row.pk, error)


@transaction.atomic
def _record_attempt(outbound_id: int, error: str) -> OutboundMessage:
    row = OutboundMessage.objects.select_for_update().get(pk=outbound_id)
    now = timezone.now()
    DeliveryAttempt.objects.create(outbound=row, number=row.attempts, succeeded=not error, error=error, created_at=now)
    if not error:
        row.status, row.sent_at, row.last_error = OutboundStatus.SENT, now, ""
        row.save(update_fields=["status", "sent_at", "last_error"])
        return row
    row.last_error = error
    if row.attempts >= row.max_attempts:
        row.status = OutboundStatus.FAILED
        row.save(update_fields=["status", "last_error"])
        ticket = Ticket.objects.filter(pk=row.ticket_id).first() if row.ticket_id else None
        if ticket is not None:
            record_event(ticket, TicketEventType.NOTIFICATION_FAILED, actor=Actor.system(), data={
                "outbound_id": row.pk, "kind": row.kind, "recipients": [*row.to, *row.cc],
                "attempts": row.attempts, "error": error[:500], "message_id": row.ticket_message_id,
            })
        return row
    row.status = OutboundStatus.RETRYING
    row.next_attempt_at = now + _retry_delay(row.attempts)
    row.save(update_fields=["status", "last_error", "next_attempt_at"])
    return row


def outbound_due_ids(*, limit: int = 200) -> list[int]:
    now = timezone.now()
    stale = now - timedelta(minutes=10)
    from django.db.models import Q

    due = Q(status__in=[OutboundStatus.QUEUED, OutboundStatus.RETRYING], next_attempt_at__lte=now) | Q(
        status=OutboundStatus.SENDING, next_attempt_at__lte=stale)
    return list(OutboundMessage.objects.filter(due).order_by("next_attempt_at").values_list("id", flat=True)[:limit])


def outbound_retry_due() -> int:
    ids = outbound_due_ids()
    for outbound_id in ids:
        outbound_send(outbound_id=outbound_id)
    return len(ids)


@transaction.atomic
def outbound_cancel(*, outbound: OutboundMessage, actor: Actor) -> OutboundMessage:
    row = OutboundMessage.objects.select_for_update().get(pk=outbound.pk)
    if not row.is_final:
        row.status = OutboundStatus.CANCELLED
        row.last_error = f"cancelled by {actor.user.email if actor.user else actor.kind}"
        row.save(update_fields=["status", "last_error"])
    return row
