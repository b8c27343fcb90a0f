"""Submitting a request from the portal."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from atende.accounts.models import User
from atende.core.actor import Actor
from atende.kb.services import deflections_mark_submitted
from atende.tickets.models import Ticket, TicketForm
from atende.tickets.services import IncomingFile, ticket_create


@transaction.atomic
def portal_request_submit(*, customer: User, subject: str, description: str, form: TicketForm | None = None,
                          custom_fields: dict[str, Any] | None = None, attachments: list[IncomingFile] = (),
                          language: str = "", session_key: str = "") -> Ticket:
    """Create the ticket (channel ``web``) and note that this session's suggested articles did not deflect it."""
    ticket = ticket_create(
        actor=Actor.for_user(customer), requester=customer, subject=subject, body_text=description,
        channel="web", form=form, custom_fields=custom_fields or {}, attachments=list(attachments),
        language=language,
    )
    deflections_mark_submitted(session_key=session_key)
    return ticket
