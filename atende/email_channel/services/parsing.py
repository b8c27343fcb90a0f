"""Raw bytes → ``ParsedEmail``: headers decoded whatever their charset, text and HTML bodies, attachments.

Nothing here raises on bad input except ``UnparseableMessage`` (a message Python's email package cannot read
at all); malformed headers, unknown charsets and broken transfer encodings degrade to replacement characters.
"""

from __future__ import annotations

import codecs
import email
import email.header
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message as EmailMessage
from email.policy import compat32

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from atende.tickets.services import IncomingFile
from atende.tickets.text import html_to_text

MAX_PARTS = 500  # a message with more leaf parts than this is malformed or hostile
MAX_DEPTH = 40
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*$")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
# Charset names seen in the wild that Python does not know, mapped to a codec that reads them.
_CHARSET_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "ks_c_5601-1987": "cp949", "x-sjis": "shift_jis",
    "unicode-1-1-utf-7": "utf-7", "x-unknown": "latin-1", "unknown-8bit": "latin-1", "us-ascii": "latin-1",
    "ascii": "latin-1", "iso-8859-8-i": "iso-8859-8", "windows-874": "cp874", "x-mac-roman": "mac_roman",
    "ansi_x3.4-1968": "latin-1", "default": "latin-1", "iso-8859-1": "cp1252", "latin1": "cp1252",
}


class UnparseableMessage(Exception):
    """Python's email package could not read the message at all."""


@dataclass
class ParsedEmail:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_name: str = ""
    from_address: str = ""
    from_header: str = ""
    reply_to: list[str] = field(default_factory=list)
    to: list[tuple[str, str]] = field(default_factory=list)
    cc: list[tuple[str, str]] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[IncomingFile] = field(default_factory=list)
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    defects: list[str] = field(default_factory=list)
    message: EmailMessage | None = None  # the parsed tree, for loop/bounce detection

    def header(self, name: str) -> str:
        if self.message is None:
            return ""
        return decode_header_value(self.message.get(name))

    @property
    def recipients(self) -> list[str]:
        return [addr for _name, addr in (*self.to, *self.cc)]


def lookup_codec(charset: str | None) -> str:
    name = (charset or "").strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    if not name:
        return "utf-8"
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):  # ValueError: a NUL in the name; UnicodeEncodeError: a lone surrogate
        return "latin-1"


def decode_bytes(data: bytes, charset: str | None) -> str:
    codec = lookup_codec(charset)
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        pass
    if codec != "utf-8":
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode(codec, errors="replace")
    except LookupError:
        return data.decode("latin-1")


def _undo_surrogates(value: str) -> str:
    """Raw 8-bit header bytes come back as surrogate escapes: read them as UTF-8, else Windows-1252."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    data = value.encode("ascii", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def decode_header_value(value) -> str:
    """An RFC 2047 (or raw 8-bit, or broken) header as text. Never raises."""
    if value is None:
        return ""
    try:
        if isinstance(value, email.header.Header):
            chunks = email.header.decode_header(value)
        else:
            value = _undo_surrogates(str(value))
            chunks = email.header.decode_header(value)
        parts = []
        for chunk, charset in chunks:
            if isinstance(chunk, bytes):
                parts.append(decode_bytes(chunk, charset or "utf-8"))
            else:
                parts.append(chunk)
        text = "".join(parts)
    except Exception:  # noqa: BLE001 - a header we cannot decode is kept as raw text
        text = str(value)
    text = _undo_surrogates(text)
    return " ".join(text.replace("\x00", "").split())


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    try:
        pairs = email.utils.getaddresses(values)
    except Exception:  # noqa: BLE001
        pairs = []
    for name, addr in pairs:
        addr = addr.strip().strip("<>").lower()
        if is_valid_address(addr) and addr not in {a for _n, a in found}:
            found.append((name.strip()[:200], addr[:254]))
    return found


def is_valid_address(address: str) -> bool:
    if not _ADDRESS.match(address):
        return False
    try:
        validate_email(address)
    except DjangoValidationError:
        return False
    return True


def message_ids(value: str) -> list[str]:
    return [mid[:990] for mid in _MESSAGE_ID.findall(value or "")]


def undecoded_payload(part: EmailMessage) -> list | str:
    """``part.get_payload()`` without its charset step: a multipart's sub-parts, or the text as the parser kept it
    (8-bit bytes as surrogates). The library decodes such text with the part's charset to hand it over, and a
    charset name the codecs refuse with ValueError instead of LookupError (a NUL, a lone surrogate) escaped."""
    if part.is_multipart():
        return part.get_payload()
    payload = part._payload  # noqa: SLF001 - what get_payload() starts from
    return payload if isinstance(payload, str) else ""


def _payload_bytes(part: EmailMessage) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - a broken transfer encoding: keep the raw payload
        data = None
    if data is None:
        payload = undecoded_payload(part)
        if isinstance(payload, str):
            data = payload.encode("utf-8", "surrogateescape")
        else:
            data = b""
    return data


def _filename(part: EmailMessage) -> str:
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except Exception:  # noqa: BLE001
        name = ""
    if isinstance(name, tuple):  # RFC 2231 value that the parser left undecoded
        name = email.utils.collapse_rfc2231_value(name)
    return decode_header_value(name)[:200]


def _leaf_parts(root: EmailMessage) -> list[tuple[EmailMessage, list[str]]]:
    """Leaf parts with the content types of their ancestors, iteratively (deep nesting must not recurse)."""
    leaves: list[tuple[EmailMessage, list[str]]] = []
    stack: list[tuple[EmailMessage, list[str]]] = [(root, [])]
    while stack and len(leaves) < MAX_PARTS:
        part, ancestors = stack.pop()
        ctype = part.get_content_type()
        payload = undecoded_payload(part)
        if part.is_multipart() and isinstance(payload, list) and ctype != "message/rfc822":
            if len(ancestors) >= MAX_DEPTH:
                continue
            for child in reversed(payload):
                if isinstance(child, EmailMessage):
                    stack.append((child, [*ancestors, ctype]))
        else:
            leaves.append((part, ancestors))
    return leaves


def _as_attachment(part: EmailMessage, index: int) -> IncomingFile | None:
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        try:
            content = inner.as_bytes(policy=compat32) if inner is not None else _payload_bytes(part)
        except Exception:  # noqa: BLE001
            content = str(inner).encode("utf-8", "surrogateescape") if inner is not None else b""
        name = _filename(part) or (decode_header_value(inner.get("Subject")) if inner is not None else "")
        name = (name or "forwarded message")[:150]
        return IncomingFile(filename=f"{name}.eml" if not name.endswith(".eml") else name, content=content,
                            content_type="message/rfc822")
    content = _payload_bytes(part)
    if not content:
        return None
    content_id = decode_header_value(part.get("Content-ID")).strip().strip("<>")
    name = _filename(part) or f"part-{index}{_extension_for(ctype)}"
    return IncomingFile(filename=name, content=content, content_type=ctype, content_id=content_id)


def _extension_for(ctype: str) -> str:
    import mimetypes

    return mimetypes.guess_extension(ctype) or ".bin"


def _parse_date(value: str) -> datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is not None and parsed.tzinfo is None:
        return None
    return parsed


def parse_email(raw: bytes) -> ParsedEmail:
    try:
        msg = email.message_from_bytes(raw, policy=compat32)
    except RecursionError as exc:
        raise UnparseableMessage("message nested too deeply to read") from exc
    except Exception as exc:  # noqa: BLE001
        raise UnparseableMessage(f"unreadable message: {exc.__class__.__name__}: {exc}") from exc

    parsed = ParsedEmail(message=msg)
    get = lambda name: decode_header_value(msg.get(name))  # noqa: E731
    parsed.message_id = (message_ids(get("Message-ID")) or [""])[0]
    parsed.in_reply_to = message_ids(get("In-Reply-To"))
    parsed.references = message_ids(get("References"))
    parsed.subject = get("Subject")[:998]
    parsed.from_header = get("From")[:500]
    senders = _addresses([get("From")]) or _addresses([get("Sender")]) or _addresses([get("Return-Path")])
    if senders:
        parsed.from_name, parsed.from_address = senders[0]
    parsed.reply_to = [addr for _n, addr in _addresses([get("Reply-To")])]
    parsed.to = _addresses([get(h) for h in ("To",)])
    parsed.cc = _addresses([get("Cc")])
    parsed.date = _parse_date(get("Date"))
    parsed.content_type = msg.get_content_type()
    parsed.defects = [type(d).__name__ for d in getattr(msg, "defects", [])][:20]
    for name in ("From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
                 "Auto-Submitted", "Precedence", "X-Mailer", "User-Agent", "Content-Type", "Delivered-To"):
        value = get(name)
        if value:
            parsed.headers[name] = value[:2000]

    texts: list[str] = []
    htmls: list[str] = []
    for index, (part, _ancestors) in enumerate(_leaf_parts(msg), start=1):
        ctype = part.get_content_type()
        try:
            disposition = (part.get_content_disposition() or "").lower()
        except Exception:  # noqa: BLE001
            disposition = ""
        has_name = bool(_filename(part))
        # A named text part after the body (a .txt or .html file sent inline) is an attachment, not body.
        is_body_text = ctype in ("text/plain", "text/html") and disposition != "attachment" and not (
            has_name and texts + htmls)
        if is_body_text:
            content = decode_bytes(_payload_bytes(part), part.get_content_charset())
            (texts if ctype == "text/plain" else htmls).append(content)
            continue
        if ctype.startswith("multipart/"):
            continue  # an empty or broken container
        attachment = _as_attachment(part, index)
        if attachment is not None:
            parsed.attachments.append(attachment)
    parsed.text = "\n\n".join(t.strip("\n") for t in texts if t.strip()).replace("\r\n", "\n").replace("\r", "\n")
    parsed.html = "\n".join(htmls)
    if not parsed.text.strip() and parsed.html:
        parsed.text = html_to_text(parsed.html)
    parsed.text = parsed.text.replace("\x00", "")
    return parsed


def _normalised_body(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def content_fingerprint(parsed: ParsedEmail) -> str:
    """What a person would call the message's content: sender, subject, text, HTML and attachments. Trace
    headers, recipients, dates and transfer encodings are left out, so the same message delivered twice (to two
    mailboxes, through the listener and an import) has one fingerprint, and an edited copy has another."""
    digest = hashlib.sha256()
    parts = [parsed.from_address, " ".join(parsed.subject.split()), _normalised_body(parsed.text),
             _normalised_body(parsed.html),
             *sorted(hashlib.sha256(a.content).hexdigest() for a in parsed.attachments)]
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()
