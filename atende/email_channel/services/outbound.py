"""Outbound mail: ``mail_queue`` is the one entry point for other apps. It queues the mail as a delivery of the
outbound engine (transport ``mail``, email_channel/transports.py), which sends it after commit, retries with
backoff and, after the last failure, writes NOTIFICATION_FAILED on the ticket. Addresses marked undeliverable
(a permanent bounce or a spam complaint, docs/email.md "Bounces") are dropped here, for every kind of mail."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction

from atende.email_channel.selectors import undeliverable_among
from atende.email_channel.services.addresses import new_message_id
from atende.outbound.models import Delivery
from atende.outbound.services import deliveries_enqueue
from atende.tickets.models import Ticket

logger = logging.getLogger(__name__)


@transaction.atomic
def mail_queue(
    *,
    to: Iterable[str],
    subject: str,
    body_text: str,
    body_html: str = "",
    from_email: str = "",
    reply_to: str = "",
    cc: Iterable[str] = (),
    headers: dict[str, str] | None = None,
    ticket: Ticket | None = None,
    ticket_message_id: int | None = None,
    event_id: int | None = None,
    kind: str = "",
    dedupe_key: str = "",
    message_id: str = "",
    attachment_ids: Iterable[int] = (),
    files: Iterable[tuple[str, bytes, str]] = (),
    auto_generated: bool = True,
    max_attempts: int | None = None,
    source: str = "",
    sensitive: bool = False,
) -> Delivery | None:
    """Queue one email; delivered after the surrounding transaction commits. With ``dedupe_key`` (e.g.
    ``"<event id>:<recipient>:<kind>"``) a second call returns None instead of queueing the same mail twice.
    ``auto_generated`` adds ``Auto-Submitted: auto-generated`` (RFC 3834) so auto-responders stay quiet.
    ``attachment_ids`` attaches ticket attachments; ``files`` attaches small generated files (filename, content,
    content type), stored with the queued mail. The mail is sent with ``message_id`` (generated when empty),
    kept as the delivery's ``external_id`` for threading and bounces. Undeliverable recipients are left out; with
    none left, nothing is queued (None). ``sensitive`` mails (a sign-in link, a password reset) have their body
    removed from the stored delivery once sent, so the link cannot be read back in the admin."""
    return mails_queue([dict(
        to=to, subject=subject, body_text=body_text, body_html=body_html, from_email=from_email, reply_to=reply_to,
        cc=cc, headers=headers, ticket=ticket, ticket_message_id=ticket_message_id, event_id=event_id, kind=kind,
        dedupe_key=dedupe_key, message_id=message_id, attachment_ids=attachment_ids, files=files,
        auto_generated=auto_generated, max_attempts=max_attempts, source=source, sensitive=sensitive)])[0]


@transaction.atomic
def mails_queue(mails: list[dict[str, Any]]) -> list[Delivery | None]:
    """``mail_queue`` for many mails (each a dict of its arguments) with one read of the undeliverable addresses
    and one insert (``outbound.deliveries_enqueue``): the queued delivery or None for each, in order."""
    mails = [{**mail, "to": _addresses(mail["to"])} for mail in mails]
    for mail in mails:
        mail["cc"] = [a for a in _addresses(mail.get("cc") or ()) if a not in mail["to"]]
    dead = undeliverable_among({a for mail in mails for a in (*mail["to"], *mail["cc"])})
    specs, queued = [], []
    for mail in mails:
        spec = _delivery_spec(dead=dead, **mail)
        queued.append(spec is not None)
        if spec is not None:
            specs.append(spec)
    rows = iter(deliveries_enqueue(specs) if specs else [])
    out: list[Delivery | None] = []
    for ok in queued:
        row = next(rows) if ok else None
        out.append(row if row is not None and row.created else None)
    return out


def _addresses(addresses: Iterable[str]) -> list[str]:
    return [a for a in dict.fromkeys(a.strip().lower() for a in addresses) if a]


def _delivery_spec(*, dead: set[str], to: list[str], subject: str, body_text: str, body_html: str = "",
                   from_email: str = "", reply_to: str = "", cc: list[str] = (), headers: dict[str, str] | None = None,
                   ticket: Ticket | None = None, ticket_message_id: int | None = None, event_id: int | None = None,
                   kind: str = "", dedupe_key: str = "", message_id: str = "", attachment_ids: Iterable[int] = (),
                   files: Iterable[tuple[str, bytes, str]] = (), auto_generated: bool = True,
                   max_attempts: int | None = None, source: str = "", sensitive: bool = False) -> dict | None:
    recipients, copies = to, cc
    if dead & {*recipients, *copies}:
        logger.info("not mailing undeliverable %s (%s)", sorted(dead & {*recipients, *copies}), kind or "mail")
        recipients = [a for a in recipients if a not in dead]
        copies = [a for a in copies if a not in dead]
    if not recipients:
        return None
    from_email = from_email or settings.DEFAULT_FROM_EMAIL
    domain = from_email.rsplit("@", 1)[-1].strip(">")
    all_headers = dict(headers or {})
    if auto_generated:
        all_headers.setdefault("Auto-Submitted", "auto-generated")
        all_headers.setdefault("X-Auto-Response-Suppress", "OOF, AutoReply")
    if ticket is not None:
        all_headers.setdefault("X-Atende-Ticket", str(ticket.number))
    payload = {
        "from_email": from_email, "reply_to": reply_to, "to": recipients, "cc": copies,
        "subject": " ".join(subject.split())[:998], "body_text": body_text, "body_html": body_html,
        "headers": all_headers, "attachment_ids": list(attachment_ids), "ticket_message_id": ticket_message_id,
        "files": [{"filename": name, "content_type": content_type,
                   "content": base64.b64encode(content).decode("ascii")} for name, content, content_type in files],
    }
    if sensitive:
        payload["sensitive"] = True
    return {"transport": "mail", "target": ", ".join([*recipients, *copies]), "payload": payload,
            "key": dedupe_key or None, "ticket_id": ticket.pk if ticket else None, "source": source or "mail",
            "kind": kind, "event_id": event_id, "max_attempts": max_attempts,
            "external_id": message_id or new_message_id(ticket.pk if ticket else None, domain)}
