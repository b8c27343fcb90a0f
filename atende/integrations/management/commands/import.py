"""``atende import FILE``: tickets with their messages, customers and organisations from CSV, Atende JSON /
JSON lines, or a Zendesk export. Idempotent: importing again changes nothing."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from atende.integrations.importing import read_import_file
from atende.integrations.importing.records import RecordError
from atende.integrations.management.commands._progress import ProgressBar
from atende.integrations.services.importing import import_batch


class Command(BaseCommand):
    help = "Import tickets (with messages), customers and organisations. See docs/import-export.md."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The file to import, or - for standard input.")
        parser.add_argument("--format", choices=["auto", "csv", "json", "jsonl", "zendesk"], default="auto")
        parser.add_argument("--source", default="", help="Name of the source system (keys the external ids); "
                            "default: csv, atende or zendesk by format.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row, write nothing.")
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")

    def handle(self, *args, path, format, source, dry_run, json: bool, **options):
        try:
            if path == "-":
                batch = read_import_file(sys.stdin, fmt=format, system=source)
            else:
                with open(path, encoding="utf-8-sig") as handle:
                    batch = read_import_file(handle, fmt=format, system=source)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}")
        except RecordError as exc:
            raise CommandError(f"Cannot read {path}: {exc}")
        report = import_batch(batch, progress=ProgressBar(self.stderr._out, label="Importing"), dry_run=dry_run)
        if json:
            self.stdout.write(_json_dumps(report.as_dict()))
            return
        prefix = "Dry run: would have " if dry_run else ""
        self.stdout.write(self.style.SUCCESS(
            f"{prefix}{report.created} tickets created, {report.updated} updated, {report.unchanged} unchanged, "
            f"{report.messages_added} messages, {report.people_created} people and "
            f"{report.organizations_created} organisations created ({batch.system})."))
        if report.rejected:
            self.stdout.write(self.style.WARNING(f"{len(report.rejected)} rejected:"))
            for label, reason in report.rejected:
                self.stdout.write(f"  {label}: {reason}")


def _json_dumps(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
