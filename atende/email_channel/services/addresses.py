"""Our own addresses: mailboxes, per-ticket plus-addresses (reply tokens), Message-IDs of the mail we send."""

from __future__ import annotations

import re
import uuid

from django.conf import settings

from atende.core.memo import batch_cached
from atende.email_channel.models import Mailbox
from atende.tickets.models import Ticket

_PLUS_TOKEN = re.compile(r"^(?P<local>[^+@]+)\+(?P<number>\d{1,18})-(?P<token>[0-9a-f]{8,32})@(?P<domain>.+)$")
_SUBJECT_TAG = re.compile(r"\[#(\d{1,18})\]")


def split_plus(address: str) -> str:
    """``support+42-abc@x`` → ``support@x`` (the mailbox an address belongs to)."""
    local, _, domain = address.lower().partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def own_addresses() -> set[str]:
    return batch_cached("email.own_addresses", _own_addresses)


def _own_addresses() -> set[str]:
    addresses = {a.lower() for a in Mailbox.objects.values_list("address", flat=True)}
    addresses.add(settings.DEFAULT_FROM_EMAIL.lower())
    return addresses


def is_own_address(address: str, own: set[str] | None = None) -> bool:
    own = own if own is not None else own_addresses()
    return address.lower() in own or split_plus(address) in own


def active_mailboxes() -> list[Mailbox]:
    """Active mailboxes with their teams, by id (read once per batch of work, ``core.memo``)."""
    return batch_cached("email.active_mailboxes", lambda: list(
        Mailbox.objects.filter(is_active=True).select_related("team").order_by("id")))


def mailbox_for_recipients(recipients: list[str]) -> Mailbox | None:
    wanted = {split_plus(r) for r in recipients if r}
    return next((m for m in active_mailboxes() if m.address in wanted), None) if wanted else None


# A ticket annotated with its first message's metadata (loaded with a batch of tickets) spares the query below.
FIRST_MESSAGE_METADATA = "first_message_metadata"


def mailbox_for_ticket(ticket: Ticket) -> Mailbox | None:
    """The team's mailbox, else the one the ticket came in through, else the first active one."""
    mailboxes = active_mailboxes()
    if ticket.team_id:
        mailbox = next((m for m in mailboxes if m.team_id == ticket.team_id), None)
        if mailbox:
            return mailbox
    if hasattr(ticket, FIRST_MESSAGE_METADATA):
        first = getattr(ticket, FIRST_MESSAGE_METADATA) or {}
    else:
        first = ticket.messages.order_by("id").values_list("metadata", flat=True).first() or {}
    mailbox_id = (first.get("email") or {}).get("mailbox_id") if isinstance(first, dict) else None
    if mailbox_id:
        mailbox = next((m for m in mailboxes if m.pk == mailbox_id), None)
        if mailbox:
            return mailbox
    return mailboxes[0] if mailboxes else None


def ticket_address(ticket: Ticket, mailbox: Mailbox | None) -> str:
    base = mailbox.address if mailbox else settings.DEFAULT_FROM_EMAIL
    local, _, domain = base.partition("@")
    return f"{local}+{ticket.number}-{ticket.reply_token}@{domain}" if ticket.reply_token else base


def reply_token_match(recipients: list[str]) -> tuple[int, str] | None:
    for address in recipients:
        match = _PLUS_TOKEN.match(address.lower())
        if match:
            return int(match["number"]), match["token"]
    return None


def subject_ticket_number(subject: str) -> int | None:
    match = _SUBJECT_TAG.search(subject or "")
    return int(match.group(1)) if match else None


def subject_with_tag(ticket: Ticket, subject: str) -> str:
    tag = f"[#{ticket.number}]"
    return subject if tag in subject else f"{subject} {tag}".strip()


def new_message_id(ticket_id: int | None, domain: str) -> str:
    return f"<atende.{ticket_id or 0}.{uuid.uuid4().hex}@{domain or 'atende.invalid'}>"
