"""One batch mixing every case (tickets with and without a policy, a policy switched and re-chosen in the batch,
running, paused, fulfilled and resumed clocks) leaves the database as handling its events one at a time does:
the set-wise writes (one INSERT of clocks, one UPDATE run, clocks left as they were not written) and the policy
chosen once per ticket and batch change nothing of what is stored."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from atende.core.actor import Actor
from atende.core.memo import batch_scope
from atende.core.outbox.dispatch import PAYLOAD_FIELDS, payload_of
from atende.sla.choices import ClockState
from atende.sla.models import SlaClock
from atende.sla.selectors import policy_for_ticket
from atende.sla.services import clocks
from atende.sla.services.definitions import policy_save
from atende.sla.subscribers import sla_on_events
from atende.sla.tests.conftest import T0
from atende.tickets.choices import TicketStatus
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.services import message_add_reply, ticket_transition, ticket_update
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
M = dt.timedelta(minutes=1)
CLOCK_COLUMNS = ("ticket_id", "metric", "cycle", "state", "policy_id", "target_minutes", "started_at",
                 "segment_started_at", "consumed", "due_at", "warn_at", "warned_at", "breached_at", "fulfilled_at")
SLA_TYPES = ("SLA_APPLIED", "SLA_ACHIEVED", "SLA_BREACHED", "SLA_WARNING")


def stored(tickets) -> dict:
    """What the SLA wrote for ``tickets``: clocks, the tickets' SLA columns and the SLA events (ids left out)."""
    ids = [t.pk for t in tickets]
    return {
        "clocks": list(SlaClock.objects.filter(ticket_id__in=ids).order_by("ticket_id", "metric", "cycle")
                       .values_list(*CLOCK_COLUMNS)),
        "tickets": list(Ticket.objects.filter(pk__in=ids).order_by("pk").values_list(
            "pk", "sla_policy_id", "first_reply_due_at", "next_reply_due_at", "resolution_due_at", "sla_due_at")),
        "events": list(TicketEvent.objects.filter(ticket_id__in=ids, type__in=SLA_TYPES)
                       .order_by("ticket_id", "id").values_list("ticket_id", "type", "data")),
    }


def handle(payloads) -> None:
    with batch_scope():  # as the dispatcher runs a batch
        sla_on_events(payloads)


def test_a_mixed_batch_stores_what_its_events_one_at_a_time_store(settings, monkeypatch, fast_policy, customer, team,
                                                                   agent):
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    normal = policy_save(name="Normal", conditions={"all": [{"field": "priority", "op": "in", "value": ["normal"]}]},
                         first_reply_minutes=240, next_reply_minutes=120, resolution_minutes=2880,
                         business_hours=False, warn_before_minutes=30)
    by_agent, by_customer = Actor.for_user(agent), Actor.for_user(customer)

    def new(priority):
        return make_ticket(requester=customer, actor=by_agent, team=team, created_at=T0, priority=priority)

    rechosen = new("high")  # two policy events after the creation, the same policy each time
    ticket_update(ticket=rechosen, actor=by_agent, changes={"priority": "urgent", "tags": ["vip"]})
    switched = new("high")  # another policy by now, then re-chosen once more by the tags event
    ticket_update(ticket=switched, actor=by_agent, changes={"priority": "normal", "tags": ["vip"]})
    without = new("low")  # no policy matches
    ticket_update(ticket=without, actor=by_agent, changes={"tags": ["vip"]})
    paused = new("high")
    ticket_transition(ticket=paused, to=TicketStatus.PENDING, actor=by_agent, now=T0 + 20 * M)
    ticket_update(ticket=paused, actor=by_agent, changes={"tags": ["vip"]})
    reopened = new("high")  # first reply achieved, solved, reopened by the customer: resolution resumed
    message_add_reply(ticket=reopened, actor=by_agent, body_text="Try this", created_at=T0 + 10 * M)
    ticket_transition(ticket=reopened, to=TicketStatus.SOLVED, actor=by_agent, now=T0 + 100 * M)
    message_add_reply(ticket=reopened, actor=by_customer, body_text="Broken again", created_at=T0 + 300 * M)
    ticket_update(ticket=reopened, actor=by_agent, changes={"tags": ["vip"]})
    tickets = [rechosen, switched, without, paused, reopened]
    rows = TicketEvent.objects.filter(ticket__in=tickets).order_by("id").values(*PAYLOAD_FIELDS)
    payloads = [payload_of(row) for row in rows]

    chosen = []
    monkeypatch.setattr(clocks, "policy_for_ticket", lambda ticket, **kw: chosen.append(ticket.pk) or
                        policy_for_ticket(ticket, **kw))
    with transaction.atomic():
        point = transaction.savepoint()
        with CaptureQueriesContext(connection) as ctx:
            handle(payloads)
        assert sorted(chosen) == sorted(t.pk for t in tickets)  # once per ticket, however many policy events
        together = stored(tickets)
        transaction.savepoint_rollback(point)
    for payload in payloads:
        handle([payload])
    assert together == stored(tickets)

    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith(('INSERT INTO "sla_slaclock"',
                                                                              'UPDATE "sla_slaclock"'))]
    assert len(writes) <= 2  # one INSERT of the new clocks, one UPDATE run
    by_metric = {(t, m): (state, policy_id) for t, m, _c, state, policy_id, *_rest in together["clocks"]}
    assert by_metric[(rechosen.pk, "first_reply")] == (ClockState.RUNNING, fast_policy.pk)
    assert by_metric[(switched.pk, "resolution")] == (ClockState.RUNNING, normal.pk)
    assert not any(t == without.pk for t, _m in by_metric)
    assert {by_metric[(paused.pk, m)][0] for m in ("first_reply", "resolution")} == {ClockState.PAUSED}
    assert by_metric[(reopened.pk, "resolution")][0] == ClockState.RUNNING
    by_ticket = {pk: (policy_id, resolution_due) for pk, policy_id, _f, _n, resolution_due, _s in together["tickets"]}
    assert by_ticket[switched.pk] == (normal.pk, T0 + 2880 * M)
    assert by_ticket[without.pk] == (None, None)
    assert by_ticket[reopened.pk][0] == fast_policy.pk
    applied = [(t, data["policy_id"]) for t, kind, data in together["events"] if kind == "SLA_APPLIED"]
    assert applied.count((switched.pk, normal.pk)) == 1 and applied.count((rechosen.pk, fast_policy.pk)) == 1
