"""Replies and internal notes, with the implicit status moves they cause."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from atende.accounts.models import User
from atende.core.actor import Actor
from atende.core.exceptions import Conflict, PermissionDenied, ValidationError
from atende.core.text_hygiene import clean_body
from atende.tickets.choices import TicketEventType, TicketStatus
from atende.tickets.models import Message, Ticket
from atende.tickets.services._common import (
    check_not_closed,
    check_version,
    lock_ticket,
    record_event,
    require_agent,
    touch,
)
from atende.tickets.services.attachments import IncomingFile, attachments_store, validate_files
from atende.tickets.services.batch import TicketChanges, reply_data, reply_message, reply_times
from atende.tickets.services.create import ticket_create
from atende.tickets.services.lifecycle import ticket_transition
from atende.tickets.text import html_to_text, sanitize_html

_MENTION = re.compile(r"@([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def message_body(body_text: str, body_html: str, files: list) -> tuple[str, str]:
    body_html = clean_body(body_html)
    if body_html and not body_text:
        body_text = html_to_text(body_html)
    body_text = clean_body(body_text).strip()
    if not body_text and not files:
        raise ValidationError("The message is empty.", code="message_empty", details={"body": "required"})
    return body_text, sanitize_html(body_html) if body_html else ""


_MAX_MERGE_HOPS = 10


def _merge_target(ticket: Ticket) -> Ticket:
    """A customer writing to a merged ticket (an old email thread) is talking about the ticket it was merged into."""
    hops = 0
    while ticket.merged_into_id and hops < _MAX_MERGE_HOPS:
        ticket = lock_ticket(ticket.merged_into_id)
        hops += 1
    return ticket


@transaction.atomic
def message_add_reply(
    *,
    ticket: Ticket,
    actor: Actor,
    body_text: str = "",
    body_html: str = "",
    attachments: Iterable[IncomingFile] = (),
    channel: str | None = None,
    external_id: str = "",
    metadata: dict[str, Any] | None = None,
    set_status: str | None = None,
    expected_version: int | None = None,
    author: User | None = None,
    created_at: datetime.datetime | None = None,
    automated: bool = False,
    locked: bool = False,
) -> Message:
    """A public reply. A customer's reply reopens a pending or solved ticket, and on a closed ticket opens a
    follow-up ticket (the returned message then belongs to the follow-up); on a merged ticket it goes to the
    ticket it was merged into. An agent's first reply opens a new ticket; ``set_status`` then applies the agent's
    chosen status ("reply and set pending"). Agents cannot reply on a closed ticket (Conflict ``ticket_closed``).
    ``automated`` (a bot's answer, actor system or automation): public, by nobody, neither the first response
    nor a status move, so SLA clocks keep waiting for a person. ``locked``: the caller read ``ticket`` with
    ``lock_ticket`` in this transaction (it is not read again)."""
    files = list(attachments)
    body_text, body_html = message_body(body_text, body_html, files)
    if automated and actor.kind not in ("system", "automation"):
        raise PermissionDenied("Only the system writes automated answers.")
    author = None if automated else (author or actor.user)
    from_customer = author is not None and not author.is_staff_member
    if not from_customer:
        require_agent(actor)
    if not locked:
        ticket = lock_ticket(ticket)
    if from_customer and ticket.merged_into_id:
        ticket = _merge_target(ticket)
        expected_version = None  # the version the customer saw was the merged ticket's
    if ticket.is_closed:
        if not from_customer:
            raise Conflict(f"Ticket #{ticket.number} is closed; create a follow-up instead.", code="ticket_closed")
        requester_actor = actor if actor.is_customer else Actor(kind="customer", user=author)
        follow_up = ticket_create(
            actor=requester_actor, requester=author, subject=ticket.subject, body_text=body_text,
            body_html=body_html, channel=channel or ticket.channel, type=ticket.type, category=ticket.category,
            urgency=ticket.urgency, impact=ticket.impact, attachments=files, language=ticket.language,
            message_external_id=external_id, message_metadata=metadata, follow_up_of=ticket, created_at=created_at,
        )
        record_event(ticket, TicketEventType.FOLLOW_UP_CREATED, actor=actor, data={"follow_up": follow_up.number})
        return follow_up.first_message
    check_version(ticket, expected_version)
    validated = validate_files(files)
    now = created_at or timezone.now()
    message = reply_message(ticket, author=author,
                            author_kind=actor.kind if automated else "customer" if from_customer else "agent",
                            channel=channel, body_text=body_text, body_html=body_html, external_id=external_id,
                            metadata=metadata, created_at=now)
    message.save(force_insert=True)
    stored = attachments_store(ticket=ticket, message=message, validated=validated, uploaded_by=author)
    fields = [] if automated else reply_times(ticket, from_customer=from_customer, now=now)
    touch(ticket, fields, now=now)
    record_event(ticket, TicketEventType.REPLY_ADDED, actor=actor, created_at=now,
                 data=reply_data(message, attachments=[a.pk for a in stored], fields=fields))
    if from_customer and ticket.status in (TicketStatus.PENDING, TicketStatus.SOLVED):
        ticket_transition(ticket=ticket, to=TicketStatus.OPEN, actor=actor, reason="customer_reply", now=now)
    elif not from_customer and not automated:
        target = set_status or (TicketStatus.OPEN if ticket.status == TicketStatus.NEW else None)
        if target and target != ticket.status:
            if ticket.status == TicketStatus.NEW and target != TicketStatus.OPEN and not ticket.can_transition_to(target):
                ticket_transition(ticket=ticket, to=TicketStatus.OPEN, actor=actor, reason="agent_reply", now=now)
            ticket_transition(ticket=ticket, to=target, actor=actor, reason="agent_reply", now=now)
    return message


@transaction.atomic
def message_add_note(*, ticket: Ticket, actor: Actor, body_text: str = "", body_html: str = "",
                     attachments: Iterable[IncomingFile] = (), metadata: dict[str, Any] | None = None,
                     created_at: datetime.datetime | None = None) -> Message:
    """An internal note (never shown to customers). Agents and collaborators; ``@email`` mentions are recorded."""
    if actor.user is not None and not actor.user.is_staff_member:
        raise PermissionDenied("Only agents can write internal notes.")
    require_agent(actor, allow_collaborator=True)
    files = list(attachments)
    body_text, body_html = message_body(body_text, body_html, files)
    validated = validate_files(files)
    ticket = lock_ticket(ticket)
    check_not_closed(ticket)
    changes = TicketChanges(locked=True, now=created_at)
    message = changes.add_note(ticket, actor=actor, body_text=body_text, body_html=body_html, validated=validated,
                               metadata=metadata)
    changes.save()
    return message


@transaction.atomic
def phone_call_log(*, actor: Actor, caller: User, notes: str, duration_seconds: int = 0, direction: str = "inbound",
                   ticket: Ticket | None = None, subject: str = "", **ticket_fields) -> Ticket:
    """Log a phone call: a new ticket with channel ``phone``, or an internal note on an existing ticket."""
    require_agent(actor)
    if duration_seconds < 0:
        raise ValidationError("The call duration cannot be negative.", code="invalid_duration")
    call = {"caller_id": caller.pk, "caller": caller.display_name, "phone": caller.phone,
            "duration_seconds": int(duration_seconds), "direction": direction}
    if ticket is None:
        ticket = ticket_create(actor=actor, requester=caller, subject=subject or f"Phone call from {caller.display_name}",
                               body_text=notes, channel="phone", first_message_by_agent=True,
                               message_metadata={"phone_call": call}, **ticket_fields)
    else:
        message_add_note(ticket=ticket, actor=actor, body_text=notes or "Phone call", metadata={"phone_call": call})
        ticket = lock_ticket(ticket)
    record_event(ticket, TicketEventType.PHONE_CALL_LOGGED, actor=actor, data=call)
    return ticket
