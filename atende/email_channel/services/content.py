"""What an inbound email becomes on a ticket: body (stripped for replies), attachments, channel metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from atende.core.exceptions import DomainError
from atende.email_channel.models import InboundMessage, Mailbox
from atende.email_channel.services.parsing import ParsedEmail
from atende.email_channel.services.stripping import strip_reply
from atende.tickets.services import IncomingFile
from atende.tickets.services.attachments import validate_file
from atende.tickets.text import sanitize_html

MAX_BODY_CHARS = 200_000


@dataclass
class TicketContent:
    subject: str
    body_text: str
    body_html: str
    attachments: list[IncomingFile] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


def _allowed(incoming: IncomingFile) -> str:
    """Empty when the file may be kept, else why not (the same check the ticket services apply). Disallowed
    files are skipped with a note, never quarantined: the raw message (always kept) still holds them."""
    try:
        validate_file(incoming)
    except DomainError as exc:
        return exc.code
    return ""


def content_build(*, parsed: ParsedEmail, inbound: InboundMessage, mailbox: Mailbox | None, is_reply: bool,
                  strip: bool) -> TicketContent:
    full_text = (parsed.text or "").strip()
    body_text = strip_reply(full_text) if (is_reply and strip) else full_text
    stripped = body_text != full_text
    # When history was cut from the text, the HTML (which still carries it) is not shown; the original is.
    body_html = "" if stripped else sanitize_html(parsed.html) if parsed.html else ""
    kept: list[IncomingFile] = []
    skipped: list[dict[str, Any]] = []
    for incoming in parsed.attachments:
        reason = _allowed(incoming)
        if reason:
            skipped.append({"filename": incoming.filename, "content_type": incoming.content_type,
                            "size": len(incoming.content), "reason": reason})
        else:
            kept.append(incoming)
    if not body_text and not kept:
        body_text = "(empty message)" if not skipped else "(attachments only; see the original message)"
    subject = parsed.subject.strip() or "(no subject)"
    metadata = {"email": {
        "inbound_id": inbound.pk,
        "raw_url": reverse("email_channel:inbound_raw", args=[inbound.pk]),
        "message_id": parsed.message_id,
        "from": parsed.headers.get("From", parsed.from_address),
        "to": [a for _n, a in parsed.to],
        "cc": [a for _n, a in parsed.cc],
        "subject": parsed.subject[:500],
        "date": parsed.date.isoformat() if parsed.date else None,
        "in_reply_to": parsed.in_reply_to[:5],
        "references": parsed.references[-20:],
        "mailbox_id": mailbox.pk if mailbox else None,
        "stripped": stripped,
        "skipped_attachments": skipped,
        "sha256": inbound.sha256,
    }}
    return TicketContent(subject=subject[:255], body_text=body_text[:MAX_BODY_CHARS], body_html=body_html[:MAX_BODY_CHARS],
                         attachments=kept, metadata=metadata)
