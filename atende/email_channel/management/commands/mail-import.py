"""``atende mail-import FILE…``: ingest .eml or mbox files (``-`` reads standard input), in one process, their
messages committed in groups (``services.mail_import``).

Prints one summary line at the end, counting files and messages. Exits non-zero when anything could not be
stored: a file that could not be read, a message that could not be stored, or a file in which no message was
found (that file is kept whole in quarantine, with the reason).
"""

import sys
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from atende.email_channel.choices import InboundStatus
from atende.email_channel.services.mail_import import DUPLICATE_BYTES, NOT_STORED, MailImport


class Command(BaseCommand):
    help = "Import .eml or mbox files (or '-' for standard input) as inbound email."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="paths to .eml or mbox files; '-' reads standard input")

    def handle(self, *args, files, **options):
        messages = Counter()
        unreadable = quarantined_whole = incomplete = stored = total = 0
        importer = MailImport()
        for name in files:
            try:
                if name == "-":
                    data = sys.stdin.buffer.read()
                else:
                    with open(name, "rb") as handle:
                        data = handle.read()
            except OSError as exc:
                self.stderr.write(f"mail-import: cannot read {name}: {exc}")
                unreadable += 1
                continue
            importer.add(data=data, name=name)
        for result in importer.finish():  # messages are committed in groups, across files
            messages.update(result.outcomes)
            stored += result.stored
            total += result.messages
            incomplete += int(not result.complete)
            for error in result.errors:
                self.stderr.write(f"mail-import: {error}")
            if result.quarantined_whole is not None:
                quarantined_whole += 1
                self.stderr.write(f"mail-import: no message found in {result.name}; the file is kept in quarantine "
                                  f"(inbound message {result.quarantined_whole})")
            if options["verbosity"] >= 2:
                summary = ", ".join(f"{count} {status}" for status, count in sorted(result.outcomes.items()))
                self.stderr.write(f"{result.name}: {result.messages} message(s): {summary or 'none'}")
        self.stdout.write(
            f"mail-import: {len(files)} files: {unreadable} unreadable, {quarantined_whole} with no message "
            f"(kept in quarantine); {total} messages: {stored} stored, "
            f"{messages[InboundStatus.TICKET_CREATED]} tickets created, "
            f"{messages[InboundStatus.REPLY_ADDED]} replies threaded, {messages[InboundStatus.IGNORED]} ignored, "
            f"{messages[InboundStatus.QUARANTINED]} quarantined, "
            f"{messages[DUPLICATE_BYTES] + messages[InboundStatus.DUPLICATE]} duplicates, "
            f"{messages[NOT_STORED]} not stored"
        )
        failed = unreadable + incomplete
        if failed:
            raise CommandError(f"{failed} file(s) could not be read or not every message in them was stored",
                               returncode=1)
