"""Reads for the email channel, with their visibility rules."""

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Lower

from atende.accounts.models import User
from atende.core.exceptions import NotFound
from atende.email_channel.choices import InboundStatus
from atende.email_channel.models import InboundMessage, UndeliverableAddress
from atende.tickets.selectors import access_ticket


def access_inbound(*, user: User, inbound_id: int) -> InboundMessage:
    """A stored raw message: admins see all; agents only those on tickets they may see; customers none."""
    if not user.is_authenticated or not user.is_staff_member:
        raise NotFound("Message not found.")
    inbound = InboundMessage.objects.filter(pk=inbound_id).first()
    if inbound is None:
        raise NotFound("Message not found.")
    if user.is_admin:
        return inbound
    if inbound.ticket_id is None:
        raise NotFound("Message not found.")
    access_ticket(user=user, ticket_id=inbound.ticket_id)
    return inbound


def quarantine_list_for_admin(*, user: User) -> QuerySet[InboundMessage]:
    if not user.is_authenticated or not user.is_admin:
        raise NotFound("Not found.")
    return InboundMessage.objects.filter(status=InboundStatus.QUARANTINED).defer("raw").order_by("-received_at", "-id")


def undeliverable_among(addresses: Iterable[str]) -> set[str]:
    """Which of these addresses (any case) are marked undeliverable (a permanent bounce or a spam complaint),
    lower-cased. Notifications skip them; the console flags them."""
    wanted = {a.strip().lower() for a in addresses if a}
    if not wanted:
        return set()
    return set(UndeliverableAddress.objects.filter(address__in=wanted).values_list("address", flat=True))


def undeliverable_flag(email: str | OuterRef) -> Exists:
    """``undeliverable_among`` as a query expression, to annotate the query that reads the address (``email``: an
    ``OuterRef`` to an email column of it) instead of asking in a query of its own."""
    return Exists(UndeliverableAddress.objects.filter(address=Lower(email)))
