"""The set-wise SLA backfill (what ``atende seed`` uses for the demo's back-dated tickets) writes exactly what the
per-ticket replay ``sla_apply_to_ticket`` writes: the same clocks, the same dated SLA events, the same due
times on the tickets; and it leaves tickets that already have clocks alone."""

import pytest
from django.db import transaction
from django.utils import timezone

from atende.core.events import events_suppressed
from atende.sla.demo import configure_demo
from atende.sla.models import SlaClock
from atende.sla.services.backfill import sla_backfill
from atende.sla.services.clocks import sla_apply_to_ticket
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.seed.demo import load_demo as tickets_demo

pytestmark = pytest.mark.django_db

SLA_EVENTS = ("SLA_APPLIED", "SLA_ACHIEVED", "SLA_BREACHED", "SLA_WARNING")
CLOCK_FIELDS = ("ticket_id", "policy_id", "metric", "state", "cycle", "target_minutes", "started_at",
                "segment_started_at", "consumed", "due_at", "warn_at", "warned_at", "breached_at", "fulfilled_at")
TICKET_FIELDS = ("pk", "sla_policy_id", "first_reply_due_at", "next_reply_due_at", "resolution_due_at", "sla_due_at",
                 "version", "updated_at")


def _snapshot():
    return {
        "clocks": list(SlaClock.objects.order_by("ticket_id", "metric", "cycle").values_list(*CLOCK_FIELDS)),
        "events": list(TicketEvent.objects.filter(type__in=SLA_EVENTS).order_by("id").values_list(
            "ticket_id", "type", "actor_kind", "actor_user_id", "data", "created_at", "backfill")),
        "tickets": list(Ticket.objects.order_by("pk").values_list(*TICKET_FIELDS)),
    }


class _Undo(Exception):
    pass


def _per_ticket(now):
    try:
        with transaction.atomic():
            with events_suppressed():
                for ticket in Ticket.objects.order_by("pk"):
                    sla_apply_to_ticket(ticket=ticket, now=now)
            snapshot = _snapshot()
            raise _Undo
    except _Undo:
        return snapshot


def test_backfill_writes_what_the_per_ticket_replay_writes():
    tickets_demo(tickets=120)
    configure_demo()
    now = timezone.now()
    expected = _per_ticket(now)
    assert not SlaClock.objects.exists()  # the replay above was rolled back
    assert sla_backfill(now=now) == 120
    got = _snapshot()
    assert got["tickets"] == expected["tickets"]
    assert got["clocks"] == expected["clocks"]
    assert got["events"] == expected["events"]
    # the demo exercises every path: met, breached (while open and when fulfilled late), paused, next replies
    states = {(metric, state, breached is not None) for _t, _p, metric, state, *_rest, breached, _f in got["clocks"]}
    assert {("first_reply", "fulfilled", False), ("first_reply", "fulfilled", True), ("resolution", "paused", False),
            ("resolution", "running", True), ("next_reply", "fulfilled", False)} <= states
    assert all(backfill for *_rest, backfill in got["events"])  # history: the subscribers pass over it


def test_backfill_is_idempotent_and_skips_tickets_with_clocks():
    tickets_demo(tickets=30)
    configure_demo()
    first = Ticket.objects.order_by("pk").first()
    with events_suppressed():
        sla_apply_to_ticket(ticket=first)
    before = SlaClock.objects.filter(ticket=first).count()
    assert sla_backfill() == 29
    assert SlaClock.objects.filter(ticket=first).count() == before
    events = TicketEvent.objects.filter(type__in=SLA_EVENTS).count()
    assert sla_backfill() == 0
    assert TicketEvent.objects.filter(type__in=SLA_EVENTS).count() == events
