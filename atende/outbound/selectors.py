"""Reads of the delivery engine. Callers apply their own permission checks (the pages that list deliveries
are for administrators)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from atende.outbound.models import Delivery


def delivery_list(*, transport: str | None = None, source: str | None = None, ticket_id: int | None = None,
                  statuses: Iterable[str] | None = None) -> QuerySet[Delivery]:
    qs = Delivery.objects.all()
    if transport is not None:
        qs = qs.filter(transport=transport)
    if source is not None:
        qs = qs.filter(source=source)
    if ticket_id is not None:
        qs = qs.filter(ticket_id=ticket_id)
    if statuses is not None:
        qs = qs.filter(status__in=list(statuses))
    return qs


def delivery_for_external_ids(*, external_ids: Iterable[str], transport: str) -> Delivery | None:
    """The newest delivery on a ticket sent with one of these ids (a mail's Message-ID, angle brackets kept)."""
    return (Delivery.objects.filter(transport=transport, external_id__in=list(external_ids), ticket_id__isnull=False)
            .order_by("-id").first())


def delivery_external_ids_for_ticket(*, ticket_id: int, transport: str) -> list[str]:
    return list(Delivery.objects.filter(ticket_id=ticket_id, transport=transport).exclude(external_id="")
                .order_by("id").values_list("external_id", flat=True))


def delivery_external_ids_for_tickets(*, ticket_ids: Iterable[int], transport: str) -> dict[int, list[str]]:
    """``delivery_external_ids_for_ticket`` for many tickets in one query: ticket id -> ids, oldest first."""
    out: dict[int, list[str]] = {}
    for ticket_id, external_id in (Delivery.objects.filter(ticket_id__in=list(ticket_ids), transport=transport)
                                   .exclude(external_id="").order_by("id").values_list("ticket_id", "external_id")):
        out.setdefault(ticket_id, []).append(external_id)
    return out
