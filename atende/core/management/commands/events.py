"""``atende events …``: the events pipeline from the command line.

    atende events status            per subscriber: lag (events, seconds), oldest unprocessed event, throughput,
                                    waiting and parked events, leases
    atende events work              a worker process (subscribers and background jobs) until SIGTERM
    atende events drain             run every subscriber and due job until nothing is left, then exit
    atende events parked            the dead-letter list
    atende events retry ID          run a parked event again
    atende events discard ID        give up on a parked event
"""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand, CommandError

from atende.core.actor import Actor
from atende.core.exceptions import DomainError
from atende.core.gc_tuning import settle
from atende.core.models import EventRetry, EventRetryState
from atende.core.outbox.drain import drain
from atende.core.outbox.services import parked_event_discard, parked_event_retry
from atende.core.outbox.status import subscriber_status
from atende.core.outbox.worker import EventsWorker


class Command(BaseCommand):
    help = "Events pipeline: status, work, drain, and the parked (dead-letter) events."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        status = sub.add_parser("status", help="lag, throughput and parked events per subscriber")
        status.add_argument("--json", action="store_true")
        work = sub.add_parser("work", help="run a worker until SIGTERM")
        work.add_argument("--interval", type=float, default=0.5, help="seconds to wait when idle")
        work.add_argument("--no-jobs", action="store_true", help="subscribers only, no background tasks")
        drain_cmd = sub.add_parser("drain", help="run everything due, then exit")
        drain_cmd.add_argument("--timeout", type=float, default=None)
        drain_cmd.add_argument("--no-jobs", action="store_true")
        parked = sub.add_parser("parked", help="list parked and skipped events")
        parked.add_argument("--all", action="store_true", help="also discarded ones")
        for name in ("retry", "discard"):
            one = sub.add_parser(name, help=f"{name} a parked event")
            one.add_argument("retry_id", type=int, help="the id shown by `atende events parked`")

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action}")(**options)

    def do_status(self, *, json: bool = False, **_):  # noqa: A002 - the flag's name
        rows = subscriber_status()
        if json:
            self.stdout.write(_json([vars(r) for r in rows]))
            return
        header = f"{'subscriber':<14}{'lag':>8}{'lag s':>9}{'oldest':>10}{'per s':>8}{'done':>10}" \
                 f"{'waiting':>9}{'parked':>8}  leases"
        self.stdout.write(header)
        for r in rows:
            self.stdout.write(f"{r.name:<14}{r.lag_events:>8}{r.lag_seconds:>9.1f}{r.oldest_event_id or '-':>10}"
                              f"{r.per_second:>8.1f}{r.processed_total:>10}{r.waiting:>9}{r.parked:>8}  "
                              f"{', '.join(r.leases) or '-'}{'' if r.started else ' (not started)'}")

    def do_work(self, *, interval: float, no_jobs: bool, **_):
        worker = EventsWorker(interval=interval, jobs=not no_jobs)
        worker.install_signals()
        settle()
        self.stdout.write(f"events worker {worker.worker_id} running (SIGTERM finishes the batch and exits)")
        worker.run()

    def do_drain(self, *, timeout: float | None, no_jobs: bool, **_):
        started = time.perf_counter()
        totals = drain(jobs=not no_jobs, timeout=timeout)
        self.stdout.write(f"drained {totals['events']} event(s) and {totals['tasks']} task(s) in "
                          f"{time.perf_counter() - started:.1f} s; {totals['waiting']} waiting for a retry "
                          f"({totals['due_waiting']} due), {totals['parked']} parked")

    def do_parked(self, *, all: bool = False, **_):  # noqa: A002 - the flag's name
        states = [EventRetryState.PARKED, EventRetryState.SKIPPED]
        if all:
            states.append(EventRetryState.DISCARDED)
        rows = EventRetry.objects.filter(state__in=states).order_by("-updated_at")[:500]
        if not rows:
            self.stdout.write("No parked events.")
            return
        for row in rows:
            error = (row.last_error.strip().splitlines() or [""])[-1][:120]
            self.stdout.write(f"{row.pk:>6}  {row.state:<9} {row.subscriber:<14} event {row.event_id} "
                              f"({row.event_type}, ticket {row.ticket_id}), {row.attempts} attempt(s): {error}")

    def do_retry(self, *, retry_id: int, **_):
        row = self._call(parked_event_retry, retry_id)
        self.stdout.write(f"event {row.event_id} for {row.subscriber} will run again on the next worker pass")

    def do_discard(self, *, retry_id: int, **_):
        row = self._call(parked_event_discard, retry_id)
        self.stdout.write(f"event {row.event_id} for {row.subscriber} discarded")

    def _call(self, service, retry_id: int):
        try:
            return service(actor=Actor.system(), retry_id=retry_id)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc


def _json(data) -> str:
    return json.dumps(data, default=str, indent=2)
