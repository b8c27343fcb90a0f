"""Which ticket a message answers: In-Reply-To/References, the reply token, the [#N] tag from someone on the
ticket, an earlier message with the same Message-ID, then a reply's normalised subject within a time window."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from atende.accounts.models import User
from atende.email_channel.services.addresses import reply_token_match, subject_ticket_number
from atende.email_channel.services.parsing import ParsedEmail
from atende.outbound.selectors import delivery_for_external_ids
from atende.tickets.models import HAS_EXTERNAL_ID, Message, Ticket, TicketFollower

SUBJECT_CANDIDATES = 200

# Reply and forward prefixes in the languages mail clients write them (JWZ's threading normalises subjects the
# same way): Re, Fwd/Fw, German AW/WG, Portuguese and Spanish RES/Enc/RV, Scandinavian SV/VS, Dutch Antw, French
# TR, Italian R/Rif, Polish Odp, with counters ("Re[2]:", "Re(3):") and full-width colons.
_REPLY_WORDS = r"re|aw|sv|vs|antw|antwort|res|resp|r|rif|odp|ynt|atb|vá"
_FORWARD_WORDS = r"fwd?|wg|enc|rv|tr|trs|doorst|vl|pd|i|továbbítás"
_PREFIX = re.compile(rf"^\s*(?:(?P<reply>{_REPLY_WORDS})|(?:{_FORWARD_WORDS}))\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*",
                     re.IGNORECASE)
_LIST_TAG = re.compile(r"^\s*\[[^\[\]]{1,60}\]\s*")  # "[users-list] …"
_TICKET_TAG = re.compile(r"\[#\d{1,18}\]")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class ThreadMatch:
    ticket: Ticket
    method: str  # "references", "reply_token", "subject_tag", "message_id", "subject"


def normalize_subject(subject: str) -> tuple[str, bool]:
    """``("printer broken", True)`` for ``"AW: [support] Re: Printer   broken [#42]"``: reply and forward
    prefixes, list tags, our ticket tags and extra whitespace removed, case folded; the flag says whether a
    reply prefix was among them."""
    text = _TICKET_TAG.sub(" ", subject or "")
    is_reply = False
    while True:
        match = _PREFIX.match(text) or _LIST_TAG.match(text)
        if not match or match.end() == 0:
            break
        is_reply = is_reply or bool(match.groupdict().get("reply"))
        text = text[match.end():]
    return _SPACES.sub(" ", text).strip().casefold(), is_reply


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


def thread_find(parsed: ParsedEmail, *, recipients: list[str], sender: User | None,
                same_message_id_ticket_id: int | None = None, subject_window: timedelta | None = None,
                now: datetime | None = None) -> ThreadMatch | None:
    ids = [i for i in (*parsed.in_reply_to, *reversed(parsed.references)) if i]
    if ids:
        message = Message.objects.filter(HAS_EXTERNAL_ID, external_id__in=[f"<{i}>" for i in ids] + ids).order_by("-id").first()
        ticket_id = message.ticket_id if message else None
        if ticket_id is None:
            ours = delivery_for_external_ids(external_ids=[f"<{i}>" for i in ids], transport="mail")
            ticket_id = ours.ticket_id if ours else None
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
    if same_message_id_ticket_id:
        ticket = Ticket.objects.filter(pk=same_message_id_ticket_id).first()
        if ticket:
            return ThreadMatch(_follow_merges(ticket), "message_id")
    if subject_window and sender is not None:
        ticket = _subject_thread(parsed, sender=sender, since=(now or timezone.now()) - subject_window,
                                 has_missing_parent=bool(ids))
        if ticket:
            return ThreadMatch(_follow_merges(ticket), "subject")
    return None


def _subject_thread(parsed: ParsedEmail, *, sender: User, since: datetime, has_missing_parent: bool) -> Ticket | None:
    """A reply whose parent we never saw (or that only says "Re:") joins the sender's most recently active ticket
    with the same normalised subject. Only tickets the sender is already on (requester, CC, assignee) are
    candidates: a subject is easy to guess, so it never lets a stranger into someone else's ticket."""
    subject, is_reply = normalize_subject(parsed.subject)
    if not subject or not (is_reply or has_missing_parent):
        return None
    candidates = (Ticket.objects.filter(Q(requester=sender) | Q(followers=sender) | Q(assignee=sender),
                                        updated_at__gte=since)
                  .distinct().order_by("-updated_at", "-id").only("id", "subject", "merged_into_id")
                  [:SUBJECT_CANDIDATES])
    for ticket in candidates:
        if normalize_subject(ticket.subject)[0] == subject:
            return ticket
    return None
