"""One engine, two ways in: a history the live subscriber followed batch by batch (with the minute job running)
and the backfill of the same history replayed afterwards leave the same clocks, the same SLA events and the same
due times on the tickets. And the backfill of the demo desk exercises every path, records history (backfill
events, dated when they happened) and leaves tickets that already have clocks alone."""

import datetime as dt

import pytest
from django.utils import timezone

from atende.core.actor import Actor
from atende.core.events import events_suppressed
from atende.core.outbox.drain import drain
from atende.sla.choices import ClockState
from atende.sla.demo import configure_demo
from atende.sla.models import SlaClock
from atende.sla.services.backfill import sla_backfill
from atende.sla.services.clocks import sla_check_due
from atende.sla.services.definitions import policy_save
from atende.sla.tests.conftest import T0
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.seed.demo import load_demo as tickets_demo
from atende.tickets.services import message_add_reply, ticket_transition
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
M = dt.timedelta(minutes=1)

SLA_EVENTS = ("SLA_APPLIED", "SLA_ACHIEVED", "SLA_BREACHED", "SLA_WARNING")
# ``warned_at`` is left out: the minute job notes when it noticed a breach, history knows only when it happened
CLOCK_FIELDS = ("metric", "state", "cycle", "target_minutes", "started_at", "segment_started_at", "consumed",
                "due_at", "warn_at", "breached_at", "fulfilled_at")
TICKET_FIELDS = ("sla_policy_id", "first_reply_due_at", "next_reply_due_at", "resolution_due_at", "sla_due_at")

# Histories in business minutes after T0 (Tuesday 10:00, London office hours 09:00–17:00): who replied, what
# status the agent set. Together they meet, miss (before and after the minute job noticed), pause, resume and
# reopen every target, and several tickets move in each batch.
HISTORIES = [
    [("agent", 30), ("solved", 100)],
    [("agent", 75), ("customer", 90), ("agent", 100), ("solved", 600)],
    [("pending", 20), ("customer", 130), ("agent", 140), ("solved", 200)],
    [("agent", 10), ("solved", 100), ("customer", 300), ("agent", 305), ("solved", 320)],
    [("customer", 5), ("agent", 10), ("customer", 20), ("agent", 30), ("customer", 40)],
    [("pending", 70), ("customer", 200), ("agent", 215)],
    [("customer", 45), ("agent", 50), ("customer", 55), ("pending", 100), ("customer", 150)],
    [("on_hold", 15), ("open", 400)],
    [("agent", 20), ("pending", 50)],
    [],
]
END = 2000


def _step(ticket, what, at, customer, agent):
    if what in ("agent", "customer"):
        author = agent if what == "agent" else customer
        message_add_reply(ticket=ticket, actor=Actor.for_user(author), body_text=f"{what} at {at}", created_at=at)
    else:
        ticket.refresh_from_db()
        ticket_transition(ticket=ticket, to=what, actor=Actor.for_user(agent), now=at)


def _play(customer, agent, team, *, live):
    """The histories in time order. Live: the minute job runs at each moment, then the events of that moment are
    delivered, several tickets in one batch, as on a real desk."""
    tickets = [make_ticket(requester=customer, actor=Actor.for_user(agent), team=team, created_at=T0,
                           priority="high") for _ in HISTORIES]
    if live:
        drain(jobs=False)
    for minutes in sorted({minutes for history in HISTORIES for _w, minutes in history} | {END}):
        at = T0 + minutes * M
        if live:
            sla_check_due(now=at)
        for ticket, history in zip(tickets, HISTORIES, strict=True):
            for what, when in history:
                if when == minutes:
                    _step(ticket, what, at, customer, agent)
        if live:
            drain(jobs=False)
    return tickets


def _outcome(tickets):
    return [{
        "clocks": list(SlaClock.objects.filter(ticket=t).order_by("metric", "cycle").values_list(*CLOCK_FIELDS)),
        # sorted: two targets missed while nobody looked are noted in due-time order by the minute job and in
        # clock order by the replay
        "events": sorted(((e.type, e.data) for e in TicketEvent.objects.filter(ticket=t, type__in=SLA_EVENTS)),
                         key=repr),
        "ticket": Ticket.objects.filter(pk=t.pk).values_list(*TICKET_FIELDS).get(),
    } for t in tickets]


def test_live_batches_and_the_backfill_of_the_same_history_agree(london_calendar, customer, team,
                                                                  agent, settings):
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False  # delivered once per moment below, several tickets per batch
    policy_save(name="Office hours", conditions={}, first_reply_minutes=60, next_reply_minutes=30,
                resolution_minutes=8 * 60, warn_before_minutes=None)
    drain(jobs=False)  # cursors in place
    live = _play(customer, agent, team, live=True)
    with events_suppressed():
        replayed = _play(customer, agent, team, live=False)
    assert not SlaClock.objects.filter(ticket__in=replayed).exists()
    assert sla_backfill(tickets=Ticket.objects.filter(pk__in=[t.pk for t in replayed]), now=T0 + END * M) == \
        len(HISTORIES)
    got, expected = _outcome(replayed), _outcome(live)
    for index, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert g == e, f"history {index}: {HISTORIES[index]}"
    states = {(metric, state, breached is not None) for o in got for metric, state, *_r, breached, _f in o["clocks"]}
    assert {("first_reply", "fulfilled", False), ("first_reply", "fulfilled", True), ("resolution", "paused", False),
            ("resolution", "running", True), ("next_reply", "fulfilled", False)} <= states
    assert not TicketEvent.objects.filter(ticket__in=live, type__in=SLA_EVENTS, backfill=True).exists()
    assert not TicketEvent.objects.filter(ticket__in=replayed, type__in=SLA_EVENTS, backfill=False).exists()


def test_backfill_of_the_demo_desk_records_history():
    tickets_demo(tickets=120)
    configure_demo()
    before = dict(Ticket.objects.values_list("pk", "version"))
    now = timezone.now()
    assert sla_backfill(now=now) == 120
    clocks = list(SlaClock.objects.values_list("ticket_id", "metric", "state", "due_at", "breached_at"))
    # the demo exercises every path: met, breached (while open and when fulfilled late), paused, next replies
    assert {("first_reply", "fulfilled", False), ("first_reply", "fulfilled", True), ("resolution", "paused", False),
            ("resolution", "running", True), ("next_reply", "fulfilled", False)} <= {
        (metric, state, breached is not None) for _t, metric, state, _d, breached in clocks}
    events = TicketEvent.objects.filter(type__in=SLA_EVENTS)
    assert events.filter(type="SLA_APPLIED").count() == 120
    assert not events.filter(backfill=False).exists()  # history: the subscribers pass over it
    assert not events.filter(created_at__gt=now).exists()  # dated when it happened
    running = {(t, m): d for t, m, state, d, _b in clocks if state == ClockState.RUNNING}
    for ticket in Ticket.objects.all():
        for metric in ("first_reply", "next_reply", "resolution"):
            assert getattr(ticket, f"{metric}_due_at") == running.get((ticket.pk, metric))
        assert ticket.version == before[ticket.pk]  # SLA bookkeeping never makes an agent's form stale


def test_backfill_is_idempotent_and_skips_tickets_with_clocks():
    tickets_demo(tickets=30)
    configure_demo()
    first = Ticket.objects.order_by("pk").first()
    assert sla_backfill(tickets=Ticket.objects.filter(pk=first.pk)) == 1
    before = list(SlaClock.objects.filter(ticket=first).values_list("pk", "state", "due_at"))
    assert sla_backfill() == 29
    assert list(SlaClock.objects.filter(ticket=first).values_list("pk", "state", "due_at")) == before
    events = TicketEvent.objects.filter(type__in=SLA_EVENTS).count()
    assert sla_backfill() == 0
    assert TicketEvent.objects.filter(type__in=SLA_EVENTS).count() == events
