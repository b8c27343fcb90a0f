"""Which ticket a message answers: In-Reply-To/References, then the [#N] tag with the reply token, then none."""

from __future__ import annotations

from dataclasses import dataclass

from atende.accounts.models import User
from atende.email_channel.models import OutboundMessage
from atende.email_channel.services.addresses import reply_token_match, subject_ticket_number
from atende.email_channel.services.parsing import ParsedEmail
from atende.tickets.models import HAS_EXTERNAL_ID, Message, Ticket, TicketFollower


@dataclass(frozen=True)
class ThreadMatch:
    ticket: Ticket
    method: str  # "references", "reply_token", "subject_tag"


def _follow_merges(ticket: Ticket) -> Ticket:
    seen = set()
    while ticket.merged_into_id and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
    return ticket


def is_participant(ticket: Ticket, user: User) -> bool:
    if user.pk == ticket.requester_id or user.is_staff_member:
        return True
    return TicketFollower.objects.filter(ticket=ticket, user=user).exists()


def thread_find(parsed: ParsedEmail, *, recipients: list[str], sender: User | None) -> ThreadMatch | None:
    ids = [i for i in (*parsed.in_reply_to, *reversed(parsed.references)) if i]
    if ids:
        message = Message.objects.filter(HAS_EXTERNAL_ID, external_id__in=[f"<{i}>" for i in ids] + ids).order_by("-id").first()
        ticket_id = message.ticket_id if message else None
        if ticket_id is None:
            ticket_id = (OutboundMessage.objects.filter(message_id__in=[f"<{i}>" for i in ids], ticket_id__isnull=False)
                         .order_by("-id").values_list("ticket_id", flat=True).first())
        if ticket_id:
            return ThreadMatch(_follow_merges(Ticket.objects.get(pk=ticket_id)), "references")
    tagged = subject_ticket_number(parsed.subject)
    token = reply_token_match(recipients)
    if token:
        number, secret = token
        if tagged is None or tagged == number:
            ticket = Ticket.objects.filter(number=number, reply_token=secret).first()
            if ticket:
                return ThreadMatch(_follow_merges(ticket), "reply_token")
    if tagged is not None and sender is not None:
        # A tag without the token is only trusted from someone already on that ticket.
        ticket = Ticket.objects.filter(number=tagged).first()
        if ticket and (sender.pk == ticket.requester_id or
                       TicketFollower.objects.filter(ticket=ticket, user=sender).exists()):
            return ThreadMatch(_follow_merges(ticket), "subject_tag")
    return None
