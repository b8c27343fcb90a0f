"""What the portal reads: a customer's requests (and their organisation's, when it shares them)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from atende.accounts.models import User
from atende.sla.selectors import expected_first_reply_minutes
from atende.tickets.choices import MessageKind, TicketStatus
from atende.tickets.models import Message, Ticket, TicketFollower, TicketForm
from atende.tickets.selectors import (
    applied_first_reply_minutes,
    expected_reply_text,
    message_list_for_user,
    no_target_text,
    ticket_list_for_user,
)

S = TicketStatus
# What customers see: the agents' working states collapse into "open"; "pending" is the customer's turn.
CUSTOMER_STATUS = {
    S.NEW: ("open", _("Open")),
    S.OPEN: ("open", _("Open")),
    S.ON_HOLD: ("open", _("Open")),
    S.PENDING: ("awaiting", _("Awaiting your reply")),
    S.SOLVED: ("solved", _("Solved")),
    S.CLOSED: ("closed", _("Closed")),
}
STATUS_FILTER = {
    "open": [S.NEW, S.OPEN, S.ON_HOLD],
    "awaiting": [S.PENDING],
    "solved": [S.SOLVED],
    "closed": [S.CLOSED],
}


def customer_status(ticket: Ticket) -> tuple[str, str]:
    return CUSTOMER_STATUS[TicketStatus(ticket.status)]


def expected_reply(ticket: Ticket) -> str:
    """"We usually answer within 4 business hours" while the request waits for its first answer (the target the
    SLA recorded, else the policy that applies now, else "as soon as possible"); empty once answered or solved."""
    if ticket.first_response_at is not None or CUSTOMER_STATUS[TicketStatus(ticket.status)][0] != "open":
        return ""  # answered, waiting for the customer, or done
    minutes = applied_first_reply_minutes(ticket) or expected_first_reply_minutes(ticket)
    return expected_reply_text(minutes) or no_target_text()


def organization_shares_tickets(user: User) -> bool:
    return bool(user.is_authenticated and user.organization_id and user.organization.shares_tickets)


def portal_ticket_list(*, user: User, scope: str = "mine", status: str = "", query: str = "") -> QuerySet[Ticket]:
    """The customer's requests, or (``scope="organization"``) every request of their sharing organisation."""
    qs = ticket_list_for_user(user=user).select_related("requester").filter(merged_into__isnull=True,
                                                                             is_spam=False)
    if scope == "organization" and organization_shares_tickets(user):
        qs = qs.filter(organization_id=user.organization_id)
    else:
        follows = TicketFollower.objects.filter(ticket_id=OuterRef("pk"), user_id=user.pk)
        qs = qs.filter(Q(requester_id=user.pk) | Q(Exists(follows)))
    if status in STATUS_FILTER:
        qs = qs.filter(status__in=STATUS_FILTER[status])
    query = (query or "").strip().lstrip("#")
    if query:
        condition = Q(subject__icontains=query)
        if query.isdigit():
            condition |= Q(number=int(query))
        qs = qs.filter(condition)
    return qs


def public_thread(*, user: User, ticket: Ticket) -> QuerySet[Message]:
    """The public conversation only — never internal notes or system messages, whoever is looking."""
    return message_list_for_user(user=user, ticket=ticket).filter(kind=MessageKind.REPLY)


def ticket_forms_for_customers() -> QuerySet[TicketForm]:
    return TicketForm.objects.filter(customer_visible=True).order_by("-is_default", "position", "name")


def ticket_form_for_customers(form_id) -> TicketForm | None:
    forms = ticket_forms_for_customers()
    if form_id:
        try:
            return forms.filter(pk=int(form_id)).first()
        except (TypeError, ValueError):
            return None
    return forms.first()
