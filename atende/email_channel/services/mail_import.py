"""Files of mail (``atende mail-import``): an .eml file is one message, an mbox file is split into its messages.

Every input ends somewhere an admin can see it: each message is stored, then processed into a ticket or a
reply, ignored with a reason, quarantined with a reason, or recognised as a duplicate; a file that yields no
message at all is itself stored and quarantined with the reason.

Messages are committed in groups (``ATENDE_MAIL_IMPORT_BATCH`` messages, or what was done in
``ATENDE_MAIL_IMPORT_BATCH_MS``), across files: the files keep every message until its group commits, so a
process that dies mid-group leaves none of it, and importing the files again completes it (the same bytes are
stored once; a Message-ID already processed is a duplicate).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings

from atende.email_channel.choices import InboundSource
from atende.email_channel.services.inbound import (
    Imported,
    inbound_store_processed_many,
    inbound_store_quarantined,
)

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


@dataclass(eq=False)
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

    def count(self, imported: Imported) -> None:
        if not imported.processed:
            self.outcomes[DUPLICATE_BYTES] += 1
            return
        self.stored += int(imported.created)
        self.outcomes[imported.row.status] += 1


class MailImport:
    """Imports files one after another, committing their messages in groups (module docstring). ``add`` each
    file, then ``finish``; ``files`` holds what became of each, complete once ``finish`` returned."""

    def __init__(self, *, batch: int | None = None, batch_ms: int | None = None):
        self.batch = max(1, batch or settings.ATENDE_MAIL_IMPORT_BATCH)
        self.batch_seconds = (settings.ATENDE_MAIL_IMPORT_BATCH_MS if batch_ms is None else batch_ms) / 1000
        self.files: list[FileImport] = []
        self._waiting: list[tuple[FileImport, int, bytes]] = []  # (file, index in it, raw message)
        self._take = self.batch  # how many messages the next group is handed (see ``_import_some``)

    def add(self, *, data: bytes, name: str) -> FileImport:
        result = FileImport(name=name)
        self.files.append(result)
        messages = split_messages(data)
        if not messages:
            _quarantine_whole(result, data)
            return result
        result.messages = len(messages)
        self._waiting.extend((result, index, raw) for index, raw in enumerate(messages, start=1))
        while len(self._waiting) >= self.batch:
            self._import_some()
        return result

    def finish(self) -> list[FileImport]:
        while self._waiting:
            self._import_some()
        return self.files

    def _import_some(self) -> None:
        """One group. A group that ran out of time did fewer messages than it was handed, and each message
        handed over is digested, parsed and looked up before the group starts: the next group is handed as many
        as the last one did, and a quarter more each time a group does all it was handed (up to ``batch``)."""
        taken = min(self._take, len(self._waiting))
        done = self._import(self._waiting[:taken])
        del self._waiting[:done]
        self._take = max(1, done) if done < taken else min(self.batch, taken + taken // 4 + 1)

    def _import(self, items: list[tuple[FileImport, int, bytes]]) -> int:
        """Import the first of ``items`` in one transaction; returns how many. When the transaction fails as a
        whole, each message is tried in a transaction of its own, so one that cannot be stored costs no other."""
        try:
            done = inbound_store_processed_many(raws=[raw for *_rest, raw in items], source=InboundSource.IMPORT,
                                                max_seconds=self.batch_seconds)
        except Exception as exc:  # noqa: BLE001 - count it, keep importing the rest
            if len(items) > 1:
                for item in items:
                    self._import([item])
                return len(items)
            result, index, _raw = items[0]
            result.outcomes[NOT_STORED] += 1
            result.errors.append(f"{result.name}: message {index} could not be stored: {exc}")
            return 1
        for (result, _index, _raw), imported in zip(items, done, strict=False):
            result.count(imported)
        return len(done)


def inbound_import_file(*, data: bytes, name: str) -> FileImport:
    """Store and process every message of one file (see the module docstring)."""
    importer = MailImport()
    result = importer.add(data=data, name=name)
    importer.finish()
    return result


def _quarantine_whole(result: FileImport, data: bytes) -> None:
    reason, detail = _why_no_message(data, result.name)
    try:
        row, _created = inbound_store_quarantined(raw=data, source=InboundSource.IMPORT, reason=reason,
                                                  detail=detail)
    except Exception as exc:  # noqa: BLE001 - reported, and the exit status says so
        result.outcomes[NOT_STORED] += 1
        result.errors.append(f"{result.name}: could not be stored: {exc}")
        return
    result.quarantined_whole = row.pk


def _why_no_message(data: bytes, name: str) -> tuple[str, str]:
    if not data.strip():
        return "empty", f"{name}: the file is empty." if not data else f"{name}: the file holds only blank space."
    return "no_messages", (f"{name}: an mbox file (it starts with a 'From ' line) in which no message follows "
                           "any separator line. The whole file is kept here.")
