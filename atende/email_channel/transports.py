"""The ``mail`` transport of the outbound engine: builds the queued mail (ticket attachments and generated
files included) and sends it through Django's mail backend (SMTP in production)."""

from __future__ import annotations

import base64
import contextlib
import logging
import threading
from collections.abc import Iterator

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from atende.core.actor import Actor
from atende.outbound.choices import DeliveryStatus
from atende.outbound.models import Delivery, DeliveryAttempt
from atende.outbound.transports import DeliveryCancelled, SendResult, Transport
from atende.tickets.choices import TicketEventType
from atende.tickets.models import Attachment, Ticket
from atende.tickets.services import record_event

logger = logging.getLogger(__name__)
_batch = threading.local()  # the SMTP connection a drained batch shares, per worker thread


def mail_build(delivery: Delivery, connection=None) -> EmailMultiAlternatives:
    payload = delivery.payload
    mail = EmailMultiAlternatives(
        subject=payload["subject"], body=payload["body_text"], from_email=payload["from_email"], to=payload["to"],
        cc=payload.get("cc") or [], reply_to=[payload["reply_to"]] if payload.get("reply_to") else None,
        headers={"Message-ID": delivery.external_id, **(payload.get("headers") or {})}, connection=connection,
    )
    if payload.get("body_html"):
        mail.attach_alternative(payload["body_html"], "text/html")
    attachment_ids = payload.get("attachment_ids")
    # Most mails carry none: an empty ``pk__in`` still builds and compiles a queryset (no statement runs).
    for attachment in Attachment.objects.filter(pk__in=attachment_ids) if attachment_ids else ():
        try:
            with attachment.file.open("rb") as handle:
                mail.attach(attachment.filename, handle.read(), attachment.content_type)
        except OSError:
            logger.warning("attachment %s missing from storage; sent without it", attachment.pk)
    for item in payload.get("files") or []:
        mail.attach(item["filename"], base64.b64decode(item["content"]), item["content_type"])
    return mail


class MailTransport(Transport):
    name = "mail"

    @property
    def lease_seconds(self) -> float:
        """One message: connecting, sending and the reply, each bounded by ``EMAIL_TIMEOUT``, and a margin."""
        return max(60.0, 4 * float(getattr(settings, "EMAIL_TIMEOUT", 30) or 30))

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        _batch.connection = get_connection(fail_silently=False)
        try:
            yield
        finally:
            connection, _batch.connection = _batch.connection, None
            with contextlib.suppress(Exception):
                connection.close()

    def send(self, delivery: Delivery) -> SendResult:
        if delivery.payload.get("scrubbed"):  # "send again" on a sensitive mail whose link was removed
            raise DeliveryCancelled("its content was removed after it was sent; ask for a new link")
        connection = getattr(_batch, "connection", None)
        if connection is None:  # one delivery on its own (right after its commit)
            mail_build(delivery, get_connection(fail_silently=False)).send(fail_silently=False)
            return SendResult(external_id=delivery.external_id)
        try:
            connection.open()  # a no-op while the batch's session is open
            mail_build(delivery, connection).send(fail_silently=False)
        except Exception:
            with contextlib.suppress(Exception):  # the next mail starts a fresh session
                connection.close()
            raise
        return SendResult(external_id=delivery.external_id)

    def max_attempts(self) -> int:
        return int(getattr(settings, "EMAIL_OUTBOUND_MAX_ATTEMPTS", 6))

    def retry_base_seconds(self) -> float:
        return float(getattr(settings, "EMAIL_OUTBOUND_RETRY_BASE_SECONDS", 60))

    def attempt_recorded(self, delivery: Delivery, attempt: DeliveryAttempt) -> None:
        """A sensitive mail (a sign-in link) loses its body once sent; a mail given up on is shown on its
        ticket's timeline (NOTIFICATION_FAILED)."""
        if delivery.status == DeliveryStatus.SENT and delivery.payload.get("sensitive"):
            delivery.payload = {**delivery.payload, "body_text": "", "body_html": "", "scrubbed": True}
            Delivery.objects.filter(pk=delivery.pk).update(payload=delivery.payload)
        if delivery.status != DeliveryStatus.GIVEN_UP or not delivery.ticket_id:
            return
        ticket = Ticket.objects.filter(pk=delivery.ticket_id).first()
        if ticket is None:
            return
        payload = delivery.payload
        record_event(ticket, TicketEventType.NOTIFICATION_FAILED, actor=Actor.system(), data={
            "outbound_id": delivery.pk, "kind": delivery.kind,
            "recipients": [*payload.get("to", []), *payload.get("cc", [])], "attempts": delivery.attempts,
            "error": delivery.last_error[:500], "message_id": payload.get("ticket_message_id"),
        })
