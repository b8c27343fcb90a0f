"""What a bounce or a complaint says: which of our messages it is about, which recipients failed, and how.

Three shapes arrive:

- **Delivery status notifications** (RFC 3464, ``multipart/report; report-type=delivery-status``): read here
  from the ``message/delivery-status`` part: per recipient ``Final-Recipient``, ``Action`` and ``Status``
  (5.x.x permanent, 4.x.x temporary), ``Diagnostic-Code``.
- **Feedback reports** (ARF, RFC 5965, ``report-type=feedback-report``): a recipient marked our mail as spam;
  ``Original-Rcpt-To`` / ``Removal-Recipient`` name them. Treated like a permanent failure: we stop mailing them.
- **Everything else an MTA or provider sends** (Postfix and Exim text bounces, Exchange, Yahoo, qmail, SES and
  KDDI mail, forwarded bounces): GNU Mailman's detectors (``flufl.bounce``, about twenty MTA formats) give the
  failed recipients, temporary or permanent.

Amazon SES also posts JSON notifications (through SNS) to ``/email/ses/<token>/``; ``ses_reports`` reads them.
The message a report is about is found by the Message-ID we sent, quoted in the report's attached original.
"""

from __future__ import annotations

import email.utils
import logging
import re
from dataclasses import dataclass, field
from email.message import Message

from flufl.bounce import all_failures

from atende.email_channel.services.loops import referenced_message_ids, ses_notification_in
from atende.email_channel.services.parsing import ParsedEmail, decode_bytes, undecoded_payload

logger = logging.getLogger(__name__)

HARD, SOFT, COMPLAINT = "hard", "soft", "complaint"
_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")
_ADDRESS = re.compile(r"[^\s<>;@]+@[^\s<>;@]+\.[^\s<>;@]+")


@dataclass
class BounceReport:
    kind: str  # hard | soft | complaint
    recipients: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)  # the original's Message-ID first, then others quoted
    diagnostic: str = ""
    source: str = ""  # dsn | arf | mta | ses

    @property
    def is_permanent(self) -> bool:
        return self.kind in (HARD, COMPLAINT)


def _address(value: str) -> str:
    """``rfc822; Ana <ana@x.example>`` → ``ana@x.example``."""
    value = value.split(";", 1)[-1].strip()
    found = email.utils.parseaddr(value)[1] or value
    match = _ADDRESS.search(found)
    return match.group(0).strip(".").lower() if match else ""


def _original_message_id(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            payload = undecoded_payload(part)
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message) and inner.get("Message-ID"):
                return str(inner.get("Message-ID")).strip().strip("<>")
            text = part.get_payload(decode=True) or b""
            match = re.search(rb"(?im)^message-id:\s*<([^>\s]+)>", text)
            if match:
                return decode_bytes(match.group(1), "latin-1")
    return ""


def _pasted_message_id(parsed: ParsedEmail) -> str:
    """Text bounces (qmail, Exim) paste the original's headers below a line: its Message-ID is the first one in
    the text that is not the bounce's own."""
    for match in re.finditer(r"(?im)^\s*message-id:\s*<([^>\s]+)>", parsed.text or ""):
        if match.group(1) != parsed.message_id:
            return match.group(1)
    return ""


def _fields(part: Message) -> list[Message]:
    """The field blocks of a delivery-status or feedback-report part (the email package may hand them over as a
    list of header blocks or as text)."""
    payload = undecoded_payload(part)
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = part.get_payload(decode=True) or b""
    blocks = re.split(rb"\r?\n\s*\r?\n", text)
    return [email.message_from_bytes(block.strip() + b"\n") for block in blocks if block.strip()]


def _dsn(message: Message) -> BounceReport | None:
    for part in message.walk():
        if part.get_content_type() not in ("message/delivery-status", "message/global-delivery-status"):
            continue
        failed: dict[str, str] = {}
        diagnostic = ""
        for block in _fields(part):
            recipient = _address(str(block.get("Final-Recipient") or block.get("Original-Recipient") or ""))
            if not recipient:
                continue
            action = str(block.get("Action") or "").strip().lower()
            status = _STATUS.search(str(block.get("Status") or ""))
            code = status.group(1) if status else ""
            if action in ("delivered", "relayed", "expanded") or code == "2":
                continue
            failed[recipient] = HARD if (code == "5" or (action == "failed" and code != "4")) else SOFT
            diagnostic = diagnostic or " ".join(str(block.get("Diagnostic-Code") or block.get("Status") or "").split())
        if failed:
            kind = HARD if HARD in failed.values() else SOFT
            return BounceReport(kind=kind, recipients=sorted(failed), diagnostic=diagnostic[:500], source="dsn")
    return None


def _arf(message: Message) -> BounceReport | None:
    for part in message.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        recipients, feedback = [], ""
        for block in _fields(part):
            feedback = feedback or str(block.get("Feedback-Type") or "").strip()
            for name in ("Original-Rcpt-To", "Removal-Recipient"):
                for value in block.get_all(name) or []:
                    address = _address(str(value))
                    if address and address not in recipients:
                        recipients.append(address)
        return BounceReport(kind=COMPLAINT, recipients=recipients, source="arf",
                            diagnostic=f"feedback report: {feedback or 'abuse'}")
    return None


def _mta(message: Message) -> BounceReport | None:
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # noqa: BLE001 - a detector choking on odd mail must not stop the pipeline
        logger.debug("bounce detectors failed", exc_info=True)
        return None
    permanent_addresses = sorted({_address(decode_bytes(a, "latin-1")) for a in permanent} - {""})
    temporary_addresses = sorted({_address(decode_bytes(a, "latin-1")) for a in temporary} - {""})
    if not permanent_addresses and not temporary_addresses:
        return None
    return BounceReport(kind=HARD if permanent_addresses else SOFT, source="mta",
                        recipients=permanent_addresses or temporary_addresses)


def bounce_report(parsed: ParsedEmail, raw: bytes) -> BounceReport | None:
    """The report a bounce or complaint carries, or None when nothing in it names a failed recipient."""
    message = parsed.message
    if message is None:
        return None
    notification = ses_notification_in(parsed.text)
    if notification is not None:  # SES notifications subscribed by email rather than by HTTP
        reports = ses_reports(notification)
        return reports[0] if reports else None
    report = _arf(message) or _dsn(message) or _mta(message)
    if report is None:
        return None
    original = _original_message_id(message) or _pasted_message_id(parsed)
    quoted = referenced_message_ids(raw, parsed)
    report.message_ids = [original, *[i for i in quoted if i != original]] if original else quoted
    return report


# Amazon SES notifications (JSON) ---------------------------------------------------------------------------

def _obj(value) -> dict:
    return value if isinstance(value, dict) else {}


def _items(value) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def ses_reports(notification: dict) -> list[BounceReport]:
    """Reports in one SES notification (``notificationType`` Bounce or Complaint; Delivery and others: none).
    The Message-ID we sent is in ``mail.commonHeaders.messageId`` (or ``mail.headers``). Whatever shape the
    JSON has, this returns a list and never raises."""
    notification = _obj(notification)
    kind = str(notification.get("notificationType") or notification.get("eventType") or "")
    mail = _obj(notification.get("mail"))
    message_ids = []
    common = _obj(mail.get("commonHeaders")).get("messageId")
    if isinstance(common, str) and common.strip().strip("<>"):
        message_ids.append(common.strip().strip("<>"))
    for header in _items(mail.get("headers")):
        if str(header.get("name", "")).lower() == "message-id":
            value = str(header.get("value", "")).strip().strip("<>")
            if value and value not in message_ids:
                message_ids.append(value)
    if kind == "Bounce":
        bounce = _obj(notification.get("bounce"))
        failed = _items(bounce.get("bouncedRecipients"))
        recipients = [_address(str(r.get("emailAddress", ""))) for r in failed]
        diagnostic = next((str(r.get("diagnosticCode")) for r in failed if r.get("diagnosticCode")),
                          str(bounce.get("bounceSubType") or ""))
        return [BounceReport(kind=HARD if bounce.get("bounceType") == "Permanent" else SOFT,
                             recipients=[r for r in recipients if r], message_ids=message_ids,
                             diagnostic=diagnostic[:500], source="ses")]
    if kind == "Complaint":
        complaint = _obj(notification.get("complaint"))
        recipients = [_address(str(r.get("emailAddress", ""))) for r in _items(complaint.get("complainedRecipients"))]
        return [BounceReport(kind=COMPLAINT, recipients=[r for r in recipients if r], message_ids=message_ids,
                             diagnostic=f"complaint: {complaint.get('complaintFeedbackType') or 'abuse'}",
                             source="ses")]
    return []
