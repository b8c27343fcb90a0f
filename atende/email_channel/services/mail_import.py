"""Files of mail (``atende mail-import``): an .eml file is one message, an mbox file is split into its messages.

Every input ends somewhere an admin can see it: each message is stored, then processed into a ticket or a
reply, ignored with a reason, quarantined with a reason, or recognised as a duplicate; a file that yields no
message at all is itself stored and quarantined with the reason.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from atende.email_channel.choices import InboundSource, InboundStatus
from atende.email_channel.services.inbound import inbound_process, inbound_store_processed, inbound_store_quarantined

_LINE_ENDS = re.compile(rb"\r\n?")  # CRLF and bare CR (old Macs) become LF; LF stays
_FROM_LINE = re.compile(rb"^From [^\n]*(?:\n|$)", re.MULTILINE)
DUPLICATE_BYTES = "duplicate_bytes"  # the same bytes were stored before (by any way in)
NOT_STORED = "not_stored"


def is_mbox(data: bytes) -> bool:
    return data.startswith(b"From ")


def split_messages(data: bytes) -> list[bytes]:
    """The messages in a file. An mbox (starts with a ``From `` line) is read with its line endings normalised
    (CRLF, LF, bare CR or a mix) and cut at every ``From `` line; anything else is one message, byte for byte.
    Blank stretches between separators are not messages."""
    if not is_mbox(data):
        return [data] if data.strip() else []
    text = _LINE_ENDS.sub(b"\n", data)
    starts = list(_FROM_LINE.finditer(text))
    messages = []
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        body = text[match.end():end]
        if body.strip():
            messages.append(body)
    return messages


@dataclass
class FileImport:
    """What became of one file: ``outcomes`` counts its messages by final status, ``DUPLICATE_BYTES`` and
    ``NOT_STORED``; ``stored`` counts the messages stored now; ``quarantined_whole`` is the row that keeps a
    file in which no message was found."""

    name: str
    messages: int = 0
    stored: int = 0
    outcomes: Counter = field(default_factory=Counter)
    quarantined_whole: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every message of the file was stored, and the file was not kept whole in quarantine."""
        return not self.outcomes[NOT_STORED] and self.quarantined_whole is None


def inbound_import_file(*, data: bytes, name: str) -> FileImport:
    """Store and process every message of one file (see the module docstring)."""
    result = FileImport(name=name)
    messages = split_messages(data)
    if not messages:
        reason, detail = _why_no_message(data, name)
        try:
            row, _created = inbound_store_quarantined(raw=data, source=InboundSource.IMPORT, reason=reason,
                                                      detail=detail)
        except Exception as exc:  # noqa: BLE001 - reported, and the exit status says so
            result.outcomes[NOT_STORED] += 1
            result.errors.append(f"{name}: could not be stored: {exc}")
            return result
        result.quarantined_whole = row.pk
        return result
    for index, raw in enumerate(messages, start=1):
        result.messages += 1
        try:  # stored and processed in one transaction (the file keeps the message until then)
            row, created = inbound_store_processed(raw=raw, source=InboundSource.IMPORT)
        except Exception as exc:  # noqa: BLE001 - count it, keep importing the rest
            result.outcomes[NOT_STORED] += 1
            result.errors.append(f"{name}: message {index} could not be stored: {exc}")
            continue
        if not created and row.status != InboundStatus.PENDING:
            result.outcomes[DUPLICATE_BYTES] += 1
            continue
        result.stored += int(created)
        result.outcomes[(row if created else inbound_process(inbound_id=row.pk)).status] += 1
    return result


def _why_no_message(data: bytes, name: str) -> tuple[str, str]:
    if not data.strip():
        return "empty", f"{name}: the file is empty." if not data else f"{name}: the file holds only blank space."
    return "no_messages", (f"{name}: an mbox file (it starts with a 'From ' line) in which no message follows "
                           "any separator line. The whole file is kept here.")
