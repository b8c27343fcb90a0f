"""What a customer who opens a conversation from a messaging app is told at once: the ticket's number and the
expected reply time (the first-reply target of the SLA policy that applies; "as soon as possible" without one),
in the customer's language, with the same sentence the contact form uses (``tickets.selectors``).

The target is read from the ``SLA_APPLIED`` event the SLA subscriber wrote for the ticket
(``tickets.selectors.applied_first_reply_minutes``; the messaging subscriber runs after SLA).
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from atende.messaging.selectors import MESSAGING_TRANSPORTS
from atende.tickets.models import Message, Ticket
from atende.tickets.selectors import (
    applied_first_reply_minutes,
    expected_reply_text,
    no_target_text,
    recipient_language,
)


def acknowledgement_text(*, ticket_id: int, message_id: int) -> tuple[Ticket, str] | None:
    """(ticket, text) when the ticket was opened by a customer writing from a messaging app; None otherwise."""
    if not getattr(settings, "MESSAGING_SEND_ACKNOWLEDGEMENTS", True):
        return None
    message = Message.objects.select_related("ticket", "ticket__requester").filter(
        pk=message_id, ticket_id=ticket_id).first()
    if message is None or message.author_kind != "customer":
        return None
    route = (message.metadata or {}).get("reply_route") or {}
    if route.get("transport") not in MESSAGING_TRANSPORTS:
        return None
    ticket = message.ticket
    language = recipient_language(ticket.requester if ticket.requester_id else None, ticket)
    expected = expected_reply_text(applied_first_reply_minutes(ticket), language=language) or \
        no_target_text(language=language)
    with translation.override(language):
        text = _("We received your message: ticket #%(number)s. %(expected)s") % {
            "number": ticket.number, "expected": expected}
    return ticket, text
