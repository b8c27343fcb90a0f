"""``atende reports-rebuild``: recompute the reports' summary tables from the ticket table."""

import datetime
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date

from atende.reports.services import rollups_rebuild


def _day(value: str | None) -> datetime.datetime | None:
    if value is None:
        return None
    day = parse_date(value)
    if day is None:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value}")
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


class Command(BaseCommand):
    help = ("Recompute the reports' summary tables from the tickets: after a restore, a direct database change, "
            "tickets deleted in the admin. Without --since/--until, everything.")

    def add_arguments(self, parser):
        parser.add_argument("--since", help="first UTC day to recompute (YYYY-MM-DD)")
        parser.add_argument("--until", help="last UTC day to recompute (YYYY-MM-DD, included)")
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, since=None, until=None, quiet=False, **options):
        start, end = _day(since), _day(until)
        if end is not None:
            end += datetime.timedelta(days=1)

        def progress(done, total):
            if not quiet:
                sys.stdout.write(f"\rreports-rebuild: {done}/{total} weeks")
                sys.stdout.flush()

        result = rollups_rebuild(since=start, until=end, progress=progress, now=timezone.now())
        if not quiet:
            self.stdout.write("")
        self.stdout.write(f"reports-rebuild: {result['days']} days, {result['hour_rows']:,} hourly rows "
                          f"in {result['seconds']}s")
