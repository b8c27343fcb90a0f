"""Bounces and complaints, applied: the delivery they are about is marked bounced, its ticket says so, and an
address that fails for good stops receiving notifications (docs/email.md "Bounces")."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from atende.core.actor import Actor
from atende.email_channel.models import UndeliverableAddress
from atende.email_channel.services.bounces import SOFT, BounceReport
from atende.outbound.selectors import delivery_for_external_ids
from atende.outbound.services import delivery_mark_bounced
from atende.tickets.choices import TicketEventType
from atende.tickets.models import Ticket
from atende.tickets.services import record_event

logger = logging.getLogger(__name__)


@transaction.atomic
def address_mark_undeliverable(*, address: str, kind: str, reason: str = "",
                               ticket_id: int | None = None) -> UndeliverableAddress:
    address = address.strip().lower()
    now = timezone.now()
    row, created = UndeliverableAddress.objects.select_for_update().get_or_create(
        address=address, defaults={"kind": kind, "reason": reason[:2000], "ticket_id": ticket_id,
                                   "first_reported_at": now, "last_reported_at": now})
    if not created:
        UndeliverableAddress.objects.filter(pk=row.pk).update(
            kind=kind, reason=reason[:2000] or row.reason, bounces=F("bounces") + 1, last_reported_at=now,
            ticket_id=ticket_id or row.ticket_id)
        row.refresh_from_db()
    return row


@transaction.atomic
def bounce_apply(*, report: BounceReport, inbound_id: int | None = None) -> int | None:
    """Apply one bounce or complaint; returns the ticket it concerned (None when the mail was not ours).

    The delivery is found by the Message-ID we sent (``report.message_ids``, the original's first). Permanent
    failures and complaints mark the recipients undeliverable even when the delivery is unknown (it may have
    been pruned), so the desk stops mailing them either way."""
    delivery = None
    if report.kind == SOFT:  # delayed, still being retried by the far side: the delivery has not failed (yet)
        delivery = delivery_for_external_ids(
            external_ids=[f"<{i.strip('<>')}>" for i in report.message_ids[:50]], transport="mail")
    else:
        for message_id in report.message_ids[:50]:
            delivery = delivery_mark_bounced(reason=f"{report.kind}: {report.diagnostic}"[:2000],
                                             message_id_header=message_id)
            if delivery is not None:
                break
    ticket = Ticket.objects.filter(pk=delivery.ticket_id).first() if delivery and delivery.ticket_id else None
    recipients = list(report.recipients)
    if not recipients and delivery is not None:  # a report that names nobody: the delivery's own recipients
        recipients = [str(a).lower() for a in (delivery.payload or {}).get("to", [])]
    if ticket is not None:
        record_event(ticket, TicketEventType.EMAIL_BOUNCED, actor=Actor.system(), data={
            "outbound_id": delivery.pk, "recipients": recipients[:20], "bounce": report.kind,
            "diagnostic": report.diagnostic[:300], "source": report.source, "kind": delivery.kind,
            "inbound_id": inbound_id,
        })
    if report.is_permanent:
        for address in recipients[:50]:
            address_mark_undeliverable(address=address, kind="complaint" if report.kind == "complaint" else "hard",
                                       reason=report.diagnostic, ticket_id=ticket.pk if ticket else None)
    return ticket.pk if ticket else None
