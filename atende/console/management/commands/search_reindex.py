"""``atende search_reindex``: rebuild the full-text index of every ticket (or of the given ticket ids)."""

import time

from django.core.management.base import BaseCommand

from atende.tickets.search import reindex_all, reindex_tickets


class Command(BaseCommand):
    help = "Rebuild the ticket search index."

    def add_arguments(self, parser):
        parser.add_argument("ticket_ids", nargs="*", type=int, help="only these ticket ids (default: all)")
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args, ticket_ids=(), batch_size=5000, **options):
        started = time.perf_counter()
        if ticket_ids:
            reindex_tickets(list(ticket_ids))
            count = len(ticket_ids)
        else:
            count = reindex_all(batch_size=batch_size)
        self.stdout.write(f"search_reindex: {count:,} tickets in {time.perf_counter() - started:.1f}s")
