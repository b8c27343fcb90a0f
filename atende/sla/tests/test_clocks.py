"""SLA clocks driven by real ticket events: applied, achieved, breached, warned, paused, resumed, reopened."""

import datetime as dt

import pytest
from django.core import mail

from atende.core.actor import Actor
from atende.sla.choices import ClockState, SlaMetric
from atende.sla.models import SlaClock
from atende.sla.services.backfill import sla_backfill
from atende.sla.services.clocks import sla_check_due
from atende.sla.services.definitions import policy_save
from atende.sla.tests.conftest import T0
from atende.tickets.choices import TicketEventType as E
from atende.tickets.choices import TicketStatus
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.services import message_add_reply, ticket_transition, ticket_update
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
M = dt.timedelta(minutes=1)


def sla_events(ticket, kind):
    return list(TicketEvent.objects.filter(ticket=ticket, type=kind).order_by("id"))


def new_ticket(run_events, customer, team, agent, **kwargs):
    with run_events():
        ticket = make_ticket(requester=customer, actor=Actor.for_user(agent), team=team, created_at=T0,
                             priority=kwargs.pop("priority", "high"), **kwargs)
    ticket.refresh_from_db()
    return ticket


def test_matching_policy_sets_due_times_on_creation(run_events, fast_policy, customer, team, agent):
    ticket = new_ticket(run_events, customer, team, agent)
    assert ticket.sla_policy_id == fast_policy.pk
    assert ticket.first_reply_due_at == T0 + 60 * M
    assert ticket.resolution_due_at == T0 + 480 * M
    assert ticket.next_reply_due_at is None
    assert ticket.sla_due_at == T0 + 60 * M
    [applied] = sla_events(ticket, E.SLA_APPLIED)
    assert applied.data["policy_id"] == fast_policy.pk and applied.data["targets"]["first_reply"] == 60


def test_ticket_matching_no_policy_gets_no_clocks(run_events, fast_policy, customer, team, agent):
    ticket = new_ticket(run_events, customer, team, agent, priority="low")
    assert ticket.sla_policy_id is None and ticket.sla_due_at is None
    assert not SlaClock.objects.filter(ticket=ticket).exists()


def test_agent_reply_in_time_achieves_first_reply(run_events, fast_policy, customer, team, agent):
    ticket = new_ticket(run_events, customer, team, agent)
    with run_events():
        message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="Looking", created_at=T0 + 30 * M)
    ticket.refresh_from_db()
    [achieved] = sla_events(ticket, E.SLA_ACHIEVED)
    assert achieved.data["metric"] == "first_reply"
    assert ticket.first_reply_due_at is None
    assert ticket.sla_due_at == ticket.resolution_due_at == T0 + 480 * M


def test_minute_job_records_warning_then_breach_once(run_events, fast_policy, customer, team, agent):
    ticket = new_ticket(run_events, customer, team, agent)
    with run_events():
        assert sla_check_due(now=T0 + 44 * M) == {"warnings": 0, "breaches": 0}
        assert sla_check_due(now=T0 + 46 * M) == {"warnings": 1, "breaches": 0}
        assert sla_check_due(now=T0 + 61 * M) == {"warnings": 0, "breaches": 1}
        assert sla_check_due(now=T0 + 62 * M) == {"warnings": 0, "breaches": 0}
    [warning] = sla_events(ticket, E.SLA_WARNING)
    [breach] = sla_events(ticket, E.SLA_BREACHED)
    assert warning.data["metric"] == breach.data["metric"] == "first_reply"
    clock = SlaClock.objects.get(ticket=ticket, metric=SlaMetric.FIRST_REPLY)
    assert clock.breached_at == T0 + 60 * M and clock.state == ClockState.RUNNING
    ticket.refresh_from_db()
    assert ticket.sla_due_at == T0 + 60 * M  # still pending: breached tickets sort first in "Breaching soon"
    with run_events():  # the late reply fulfils the clock but is not "achieved"
        message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="Sorry", created_at=T0 + 90 * M)
    assert not [e for e in sla_events(ticket, E.SLA_ACHIEVED) if e.data["metric"] == "first_reply"]
    assert SlaClock.objects.get(ticket=ticket, metric=SlaMetric.FIRST_REPLY).state == ClockState.FULFILLED


def test_late_reply_before_the_job_ran_is_recorded_as_a_breach(run_events, fast_policy, customer, team, agent):
    ticket = new_ticket(run_events, customer, team, agent)
    with run_events():
        message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="Late", created_at=T0 + 75 * M)
    [breach] = sla_events(ticket, E.SLA_BREACHED)
    assert breach.data["metric"] == "first_reply"


def test_pending_pauses_and_customer_reply_resumes_with_remaining_time(run_events, fast_policy, customer, team,
                                                                        agent):
    ticket = new_ticket(run_events, customer, team, agent)
    with run_events():
        ticket_transition(ticket=ticket, to=TicketStatus.PENDING, actor=Actor.for_user(agent), now=T0 + 20 * M)
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None and ticket.first_reply_due_at is None and ticket.resolution_due_at is None
    assert set(SlaClock.objects.filter(ticket=ticket).values_list("state", flat=True)) == {ClockState.PAUSED}
    assert sla_check_due(now=T0 + 10 * 60 * M) == {"warnings": 0, "breaches": 0}  # paused clocks never breach
    resumed = T0 + 120 * M
    with run_events():
        message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Here you go", created_at=resumed)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.first_reply_due_at == resumed + 40 * M  # 60 − 20 already used
    assert ticket.resolution_due_at == resumed + 460 * M
    assert ticket.sla_due_at == resumed + 40 * M


def test_solve_achieves_resolution_and_reopen_resumes_it(run_events, fast_policy, customer, team, agent):
    ticket = new_ticket(run_events, customer, team, agent)
    agent_actor = Actor.for_user(agent)
    with run_events():
        message_add_reply(ticket=ticket, actor=agent_actor, body_text="Try this", created_at=T0 + 10 * M)
        ticket_transition(ticket=ticket, to=TicketStatus.SOLVED, actor=agent_actor, now=T0 + 100 * M)
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None
    assert [e.data["metric"] for e in sla_events(ticket, E.SLA_ACHIEVED)] == ["first_reply", "resolution"]
    reopened = T0 + 300 * M
    with run_events():
        message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Broken again",
                          created_at=reopened)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.reopen_count == 1
    assert ticket.resolution_due_at == reopened + 380 * M  # 480 − 100 used before it was solved
    assert ticket.next_reply_due_at == reopened + 30 * M
    assert ticket.sla_due_at == reopened + 30 * M
    with run_events():
        message_add_reply(ticket=ticket, actor=agent_actor, body_text="Again", created_at=reopened + 5 * M)
    ticket.refresh_from_db()
    assert ticket.next_reply_due_at is None
    last = sla_events(ticket, E.SLA_ACHIEVED)[-1].data
    assert (last["metric"], last["cycle"]) == ("next_reply", 1)


def test_each_customer_message_after_an_answer_starts_a_next_reply_clock(run_events, fast_policy, customer, team,
                                                                         agent):
    ticket = new_ticket(run_events, customer, team, agent)
    with run_events():
        message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="More info", created_at=T0 + 5 * M)
    ticket.refresh_from_db()
    assert ticket.next_reply_due_at is None  # the first reply target still covers it
    with run_events():
        message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="Answer", created_at=T0 + 10 * M)
        message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Q2", created_at=T0 + 20 * M)
        message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="A2", created_at=T0 + 30 * M)
        message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Q3", created_at=T0 + 40 * M)
    ticket.refresh_from_db()
    assert ticket.next_reply_due_at == T0 + 70 * M
    cycles = list(SlaClock.objects.filter(ticket=ticket, metric="next_reply").values_list("cycle", "state"))
    assert cycles == [(1, ClockState.FULFILLED), (2, ClockState.RUNNING)]


def test_priority_change_switches_policy_and_recomputes_from_the_start(run_events, fast_policy, customer, team,
                                                                       agent):
    relaxed = policy_save(name="Normal", conditions={}, first_reply_minutes=240, resolution_minutes=2880,
                          business_hours=False)
    ticket = new_ticket(run_events, customer, team, agent, priority="normal")
    assert ticket.sla_policy_id == relaxed.pk and ticket.first_reply_due_at == T0 + 240 * M
    with run_events():
        ticket_update(ticket=ticket, actor=Actor.for_user(agent), changes={"priority": "urgent"})
    ticket.refresh_from_db()
    assert ticket.sla_policy_id == fast_policy.pk
    assert ticket.first_reply_due_at == T0 + 60 * M
    assert [e.data["policy_id"] for e in sla_events(ticket, E.SLA_APPLIED)] == [relaxed.pk, fast_policy.pk]


def test_business_hours_policy_uses_the_team_calendar(run_events, london_calendar, customer, team, agent):
    policy_save(name="Office hours", conditions={}, first_reply_minutes=120, resolution_minutes=16 * 60)
    friday_late = dt.datetime(2024, 3, 8, 16, 0, tzinfo=dt.UTC)  # 16:00 GMT, one hour before closing
    with run_events():
        ticket = make_ticket(requester=customer, actor=Actor.for_user(agent), team=team, created_at=friday_late)
    ticket.refresh_from_db()
    assert ticket.first_reply_due_at == dt.datetime(2024, 3, 11, 10, 0, tzinfo=dt.UTC)  # Monday 10:00
    assert ticket.resolution_due_at == dt.datetime(2024, 3, 12, 16, 0, tzinfo=dt.UTC)


def test_on_breach_the_policy_actions_run_through_automation(run_events, customer, team, agent):
    team.email = "team@support.example"
    team.save()
    policy_save(name="Escalate", conditions={}, first_reply_minutes=30, business_hours=False,
                breach_actions=[{"type": "raise_priority"},
                                {"type": "send_email", "to": "team", "subject": "SLA breached on #{{ticket.number}}",
                                 "body": "{{ticket.subject}} is late"}])
    ticket = new_ticket(run_events, customer, team, agent, priority="normal")
    mail.outbox.clear()
    with run_events():
        sla_check_due(now=T0 + 31 * M)
    ticket.refresh_from_db()
    assert ticket.priority == "high"
    priority_event = TicketEvent.objects.filter(ticket=ticket, type=E.PRIORITY_CHANGED).latest("id")
    assert priority_event.actor_kind == "automation"
    assert priority_event.source_event_id == TicketEvent.objects.get(ticket=ticket, type=E.SLA_BREACHED).pk
    sent = [m for m in mail.outbox if m.subject == f"SLA breached on #{ticket.number}"]
    assert len(sent) == 1 and sent[0].to == ["team@support.example"]


def test_applying_sla_to_an_existing_ticket(run_events, customer, team, agent, settings):
    settings.ATENDE_EVENTS_DISABLED = True
    ticket = make_ticket(requester=customer, actor=Actor.for_user(agent), team=team, created_at=T0, priority="high")
    ticket_transition(ticket=ticket, to=TicketStatus.PENDING, actor=Actor.for_user(agent), now=T0 + 15 * M)
    settings.ATENDE_EVENTS_DISABLED = False
    policy_save(name="Late policy", conditions={}, first_reply_minutes=60, resolution_minutes=480,
                business_hours=False)
    assert sla_backfill(tickets=Ticket.objects.filter(pk=ticket.pk), now=T0 + 30 * M) == 1
    clocks = {c.metric: c for c in SlaClock.objects.filter(ticket=ticket)}
    assert clocks["first_reply"].state == ClockState.PAUSED
    assert clocks["first_reply"].consumed == 15 * M
    ticket.refresh_from_db()
    assert ticket.sla_policy_id is not None and ticket.sla_due_at is None


def test_applying_sla_replays_a_solved_tickets_history(customer, team, agent, settings):
    """A ticket from before the policy (the demo's history): targets are met and missed when that happened, and
    the events are dated then, so the timeline and the reports agree with the ticket."""
    settings.ATENDE_EVENTS_DISABLED = True
    staff, person = Actor.for_user(agent), Actor.for_user(customer)
    ticket = make_ticket(requester=customer, actor=staff, team=team, created_at=T0, priority="high")
    message_add_reply(ticket=ticket, actor=staff, body_text="Late", created_at=T0 + 90 * M)
    message_add_reply(ticket=ticket, actor=person, body_text="Still broken", created_at=T0 + 100 * M)
    message_add_reply(ticket=ticket, actor=staff, body_text="Fixed", created_at=T0 + 110 * M)
    ticket_transition(ticket=ticket, to=TicketStatus.SOLVED, actor=staff, now=T0 + 200 * M)
    settings.ATENDE_EVENTS_DISABLED = False
    policy_save(name="Late policy", conditions={}, first_reply_minutes=60, next_reply_minutes=30,
                resolution_minutes=480, business_hours=False)
    assert sla_backfill(tickets=Ticket.objects.filter(pk=ticket.pk), now=T0 + 1000 * M) == 1
    clocks = {c.metric: c for c in SlaClock.objects.filter(ticket=ticket)}
    assert {m: (c.state, c.breached_at) for m, c in clocks.items()} == {
        "first_reply": (ClockState.FULFILLED, T0 + 60 * M),
        "next_reply": (ClockState.FULFILLED, None),
        "resolution": (ClockState.FULFILLED, None),
    }
    assert clocks["next_reply"].fulfilled_at == T0 + 110 * M
    dated = [(e.type, e.data.get("metric"), e.created_at) for e in TicketEvent.objects.filter(
        ticket=ticket, type__startswith="SLA_").order_by("created_at", "id")]
    assert dated == [(E.SLA_APPLIED, None, T0), (E.SLA_BREACHED, "first_reply", T0 + 60 * M),
                     (E.SLA_ACHIEVED, "next_reply", T0 + 110 * M), (E.SLA_ACHIEVED, "resolution", T0 + 200 * M)]
    assert sla_backfill(tickets=Ticket.objects.filter(pk=ticket.pk), now=T0 + 1000 * M) == 0  # idempotent
    assert SlaClock.objects.filter(ticket=ticket).count() == 3
