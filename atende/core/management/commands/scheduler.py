from django.core.management.base import BaseCommand

from atende.core.gc_tuning import settle
from atende.core.scheduler import run_forever


class Command(BaseCommand):
    help = "Enqueue periodic jobs (auto-close, SLA checks, time rules, mail fetch) on their intervals."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="enqueue every job once and exit")

    def handle(self, *args, once=False, **options):
        settle(load_urls=False)  # it only queues jobs: no view, no mail is built here
        run_forever(once=once)
