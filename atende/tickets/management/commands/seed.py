"""``atende seed``: the demo help desk (once), or ``--tickets N`` synthetic tickets in bulk for benchmarks."""

import sys
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand

from atende.tickets.seed.bulk import seed_tickets
from atende.tickets.seed.demo import DEMO_LOGINS, demo_exists, load_demo


class Command(BaseCommand):
    help = "Load the demo data once, or generate N tickets fast with --tickets N."
    # Data only: the system checks (which import every URLconf) run in ``serve``, not once more here.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=None, help="bulk-generate N tickets (benchmarks)")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, tickets=None, batch_size=5000, seed=42, quiet=False, **options):
        if tickets is not None:
            def progress(done, elapsed):
                if not quiet:
                    sys.stdout.write(f"\rseed: {done:,}/{tickets:,} tickets, {done / max(elapsed, 1e-6):,.0f}/s")
                    sys.stdout.flush()

            result = seed_tickets(tickets, batch_size=batch_size, seed=seed, progress=progress)
            self.stdout.write("\n" if not quiet else "")
            self.stdout.write(
                f"seed: {result['tickets']:,} tickets, {result['messages']:,} messages, {result['events']:,} events "
                f"in {result['seconds']}s ({result['tickets_per_second']:,.0f} tickets/s, "
                f"{result['rows_per_second']:,.0f} rows/s)")
            return
        if demo_exists():
            self.stdout.write("Demo data already loaded.")
        else:
            counts = load_demo()
            for app in apps.get_app_configs():
                if app.name.startswith("atende.") and app.label != "tickets":
                    if find_spec(f"{app.name}.demo") is None:  # this app has no demo data
                        continue
                    import_module(f"{app.name}.demo").load_demo()
            self.stdout.write("Demo data loaded: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        self.stdout.write("Demo logins:")
        for role, email, password in DEMO_LOGINS:
            self.stdout.write(f"  {role:<9} {email:<24} {password}")
