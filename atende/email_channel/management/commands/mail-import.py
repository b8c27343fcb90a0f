"""``atende mail-import FILE…``: ingest .eml or mbox files (``-`` reads standard input), in one process.

Prints one summary line at the end; exits non-zero only when a message could not be stored.
"""

import re
import sys
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from atende.email_channel.choices import InboundSource, InboundStatus
from atende.email_channel.services import inbound_process, inbound_store

_MBOX_SEPARATOR = re.compile(rb"(?:^|\r?\n)From [^\r\n]*\r?\n")


def split_messages(data: bytes) -> list[bytes]:
    """An mbox (starts with a ``From `` line) split into messages; anything else is one message."""
    if not data.startswith(b"From "):
        return [data]
    starts = [m for m in _MBOX_SEPARATOR.finditer(data)]
    messages = []
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(data)
        body = data[match.end():end]
        if body.strip():
            messages.append(body)
    return messages


class Command(BaseCommand):
    help = "Import .eml or mbox files (or '-' for standard input) as inbound email."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="paths to .eml or mbox files; '-' reads standard input")

    def handle(self, *args, files, **options):
        counts = Counter()
        failures = 0
        for name in files:
            try:
                data = sys.stdin.buffer.read() if name == "-" else open(name, "rb").read()  # noqa: SIM115
            except OSError as exc:
                self.stderr.write(f"mail-import: cannot read {name}: {exc}")
                failures += 1
                continue
            for raw in split_messages(data):
                try:
                    row, created = inbound_store(raw=raw, source=InboundSource.IMPORT)
                except Exception as exc:  # noqa: BLE001 - count it, keep importing the rest
                    self.stderr.write(f"mail-import: could not store a message from {name}: {exc}")
                    failures += 1
                    continue
                if not created and row.status != InboundStatus.PENDING:
                    counts["duplicates"] += 1
                    continue
                counts["stored"] += int(created)
                status = inbound_process(inbound_id=row.pk).status
                counts[status] += 1
                if options["verbosity"] >= 2:
                    self.stderr.write(f"{name}: {status} {row.reason or ''}".rstrip())
        self.stdout.write(
            f"mail-import: {counts['stored']} stored, {counts[InboundStatus.TICKET_CREATED]} tickets created, "
            f"{counts[InboundStatus.REPLY_ADDED]} replies threaded, {counts[InboundStatus.IGNORED]} ignored, "
            f"{counts[InboundStatus.QUARANTINED]} quarantined, "
            f"{counts['duplicates'] + counts[InboundStatus.DUPLICATE]} duplicates"
        )
        if failures:
            raise CommandError(f"{failures} message(s) or file(s) could not be stored", returncode=1)
