"""``atende export``: tickets (with messages, optionally) as JSON lines or CSV, streamed, filtered like the API."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from atende.accounts.models import User
from atende.core.exceptions import DomainError
from atende.integrations.exporting import export_tickets
from atende.integrations.management.commands._progress import ProgressBar
from atende.tickets.filters import TicketFilters


class Command(BaseCommand):
    help = "Export tickets as JSON lines (importable) or CSV. Filters match the API's ticket list parameters."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
        parser.add_argument("--output", "-o", default="-", help="File to write (default: standard output).")
        parser.add_argument("--with-messages", action="store_true", help="Include every message of each ticket.")
        parser.add_argument("--no-notes", action="store_true", help="Leave internal notes out.")
        parser.add_argument("--as-user", default="", help="Export only what this person may see (email).")
        parser.add_argument("--filter", action="append", default=[], metavar="NAME=VALUE",
                            help="A ticket filter, as in the API: status=unsolved, team=3, tags=vip, "
                                 "created_from=2026-01-01 … (repeatable).")

    def handle(self, *args, format, output, with_messages, no_notes, as_user, filter, **options):
        data: dict[str, str] = {}
        for item in filter:
            name, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--filter takes NAME=VALUE, not {item!r}")
            data[name.strip()] = value
        try:
            filters = TicketFilters.from_dict(data)
        except DomainError as exc:
            raise CommandError(exc.message)
        user = None
        if as_user:
            user = User.objects.filter(email__iexact=as_user).first()
            if user is None:
                raise CommandError(f"No user {as_user}")
        stream = self.stdout._out if output == "-" else open(output, "w", encoding="utf-8", newline="")
        try:
            count = export_tickets(stream, user=user, filters=filters, fmt=format, with_messages=with_messages,
                                   include_notes=not no_notes, progress=ProgressBar(self.stderr._out,
                                                                                   label="Exported"))
        finally:
            if output != "-":
                stream.close()
        self.stderr.write(f"{count} tickets exported.")
