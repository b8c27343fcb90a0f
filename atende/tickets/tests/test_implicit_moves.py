"""Moves nobody asks for explicitly: replies open and reopen tickets, confirmation and auto-close close them, and a
reply to a closed ticket becomes a follow-up. Each goes through ``ticket_transition`` and leaves a STATUS_CHANGED."""

import datetime

import pytest
from django.utils import timezone

from atende.core.actor import Actor
from atende.core.exceptions import Conflict
from atende.tickets.choices import TicketEventType, TicketStatus
from atende.tickets.models import Message, Ticket, TicketEvent
from atende.tickets.services import message_add_reply, ticket_transition, tickets_autoclose
from atende.tickets.services.settings import ticket_settings_update
from atende.tickets.tasks import tickets_autoclose_task
from atende.tickets.tests.helpers import drive_to, event_rows, event_types

pytestmark = pytest.mark.django_db


def test_agent_first_reply_opens_a_new_ticket(ticket, agent, delivered_events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="Looking into it.")

    row = Ticket.objects.get(pk=ticket.pk)
    assert row.status == TicketStatus.OPEN
    assert row.first_response_at == message.created_at == row.last_agent_reply_at
    assert message.kind == "reply" and message.author == agent and message.author_kind == "agent"
    reply, status = event_rows(ticket, TicketEventType.REPLY_ADDED, TicketEventType.STATUS_CHANGED)
    assert reply.data["message_id"] == message.pk and reply.data["first_response"] is True
    assert status.data == {"old": "new", "new": "open", "reason": "agent_reply", "reopened": False}
    assert len(callbacks) == 2
    assert [p["type"] for p in delivered_events] == ["REPLY_ADDED", "STATUS_CHANGED"]


def test_later_agent_replies_keep_the_status_and_the_first_response_time(ticket, agent_actor):
    first = message_add_reply(ticket=ticket, actor=agent_actor, body_text="One")
    message_add_reply(ticket=ticket, actor=agent_actor, body_text="Two")
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.status == TicketStatus.OPEN
    assert row.first_response_at == first.created_at
    assert len(event_rows(ticket, TicketEventType.STATUS_CHANGED)) == 1


def test_agent_reply_can_set_pending_in_the_same_step(ticket, agent_actor):
    message_add_reply(ticket=ticket, actor=agent_actor, body_text="Which browser?", set_status=TicketStatus.PENDING)
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.status == TicketStatus.PENDING and row.paused_since is not None
    (status,) = event_rows(ticket, TicketEventType.STATUS_CHANGED)
    assert (status.data["old"], status.data["new"]) == ("new", "pending")


def test_agent_reply_with_a_forbidden_status_writes_nothing(ticket, agent_actor):
    ticket = drive_to(ticket, TicketStatus.SOLVED)
    events_before = TicketEvent.objects.count()
    with pytest.raises(Conflict):
        message_add_reply(ticket=ticket, actor=agent_actor, body_text="x", set_status=TicketStatus.PENDING)
    assert Message.objects.filter(ticket=ticket).count() == 1
    assert TicketEvent.objects.count() == events_before
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.SOLVED


def test_customer_reply_on_pending_opens_it(ticket, agent_actor, customer, delivered_events,
                                            django_capture_on_commit_callbacks):
    message_add_reply(ticket=ticket, actor=agent_actor, body_text="Which browser?", set_status=TicketStatus.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Firefox")
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.status == TicketStatus.OPEN
    assert row.reopen_count == 0  # pending is unsolved: answering is not a reopen
    assert row.last_customer_reply_at is not None
    status = event_rows(ticket, TicketEventType.STATUS_CHANGED)[-1]
    assert status.data == {"old": "pending", "new": "open", "reason": "customer_reply", "reopened": False}
    assert status.actor_kind == "customer" and status.actor_user == customer
    assert [p["type"] for p in delivered_events] == ["REPLY_ADDED", "STATUS_CHANGED"]


def test_customer_reply_on_solved_reopens_and_counts(ticket, agent_actor, customer):
    ticket = drive_to(ticket, TicketStatus.SOLVED, actor=agent_actor)
    message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Still broken")
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.status == TicketStatus.OPEN
    assert row.reopen_count == 1 and row.solved_at is None
    status = event_rows(ticket, TicketEventType.STATUS_CHANGED)[-1]
    assert status.data["reopened"] is True and status.data["reason"] == "customer_reply"
    ticket_transition(ticket=ticket, to=TicketStatus.SOLVED, actor=agent_actor)
    message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Again")
    assert Ticket.objects.get(pk=ticket.pk).reopen_count == 2


@pytest.mark.parametrize("status", [TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.ON_HOLD])
def test_customer_reply_elsewhere_keeps_the_status(status, ticket, customer):
    ticket = drive_to(ticket, status)
    before = len(event_rows(ticket, TicketEventType.STATUS_CHANGED))
    message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Any news?")
    assert Ticket.objects.get(pk=ticket.pk).status == status
    assert len(event_rows(ticket, TicketEventType.STATUS_CHANGED)) == before


def test_customer_confirmation_closes_a_solved_ticket(ticket, agent_actor, customer):
    ticket = drive_to(ticket, TicketStatus.SOLVED, actor=agent_actor)
    ticket_transition(ticket=ticket, to=TicketStatus.CLOSED, actor=Actor.for_user(customer),
                      reason="customer_confirmed")
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.status == TicketStatus.CLOSED and row.closed_at is not None
    status = event_rows(ticket, TicketEventType.STATUS_CHANGED)[-1]
    assert status.data["reason"] == "customer_confirmed" and status.actor_kind == "customer"


def _solve_at(ticket, agent_actor, when):
    return ticket_transition(ticket=ticket, to=TicketStatus.SOLVED, actor=agent_actor, now=when)


def test_autoclose_closes_only_tickets_solved_longer_ago_than_the_delay(customer, agent_actor, delivered_events,
                                                                         django_capture_on_commit_callbacks):
    from atende.tickets.tests.factories import make_ticket

    now = timezone.now()
    old = _solve_at(make_ticket(requester=customer), agent_actor, now - datetime.timedelta(hours=97))
    recent = _solve_at(make_ticket(requester=customer), agent_actor, now - datetime.timedelta(hours=95))
    still_open = drive_to(make_ticket(requester=customer), TicketStatus.OPEN)

    with django_capture_on_commit_callbacks(execute=True):
        assert tickets_autoclose(now=now) == 1

    assert Ticket.objects.get(pk=old.pk).status == TicketStatus.CLOSED
    assert Ticket.objects.get(pk=old.pk).closed_at == now
    assert Ticket.objects.get(pk=recent.pk).status == TicketStatus.SOLVED
    assert Ticket.objects.get(pk=still_open.pk).status == TicketStatus.OPEN
    status = event_rows(old, TicketEventType.STATUS_CHANGED)[-1]
    assert status.data == {"old": "solved", "new": "closed", "reason": "auto_close", "reopened": False}
    assert status.actor_kind == "system" and status.actor_user is None
    assert [(p["type"], p["ticket_id"]) for p in delivered_events] == [("STATUS_CHANGED", old.pk)]
    # two hours later the other one is due as well; running again is harmless
    assert tickets_autoclose(now=now + datetime.timedelta(hours=2)) == 1
    assert tickets_autoclose(now=now + datetime.timedelta(hours=2)) == 0
    assert Ticket.objects.get(pk=recent.pk).status == TicketStatus.CLOSED


def test_autoclose_delay_is_configurable_and_zero_turns_it_off(ticket, agent_actor):
    now = timezone.now()
    _solve_at(ticket, agent_actor, now - datetime.timedelta(hours=3))
    ticket_settings_update(autoclose_after_hours=0)
    assert tickets_autoclose(now=now) == 0
    ticket_settings_update(autoclose_after_hours=2)
    assert tickets_autoclose(now=now) == 1
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.CLOSED


def test_autoclose_skips_a_ticket_reopened_after_solving(ticket, agent_actor, customer):
    now = timezone.now()
    _solve_at(ticket, agent_actor, now - datetime.timedelta(days=10))
    message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Not fixed")
    assert tickets_autoclose(now=now) == 0
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.OPEN


def test_autoclose_task_is_scheduled_and_runs_the_service(ticket, agent_actor):
    from atende.core.scheduler import PERIODIC_TASKS

    assert PERIODIC_TASKS["atende.tickets.tasks.tickets_autoclose_task"] == 60
    _solve_at(ticket, agent_actor, timezone.now() - datetime.timedelta(days=5))
    result = tickets_autoclose_task.enqueue()  # the test settings run tasks immediately
    assert result.return_value == 1
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.CLOSED


def test_customer_reply_to_a_closed_ticket_opens_a_follow_up(ticket, agent_actor, customer, delivered_events,
                                                            django_capture_on_commit_callbacks):
    ticket = drive_to(ticket, TicketStatus.CLOSED, actor=agent_actor)
    with django_capture_on_commit_callbacks(execute=True):
        message = message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="It broke again")

    follow_up = message.ticket
    assert follow_up.pk != ticket.pk
    assert follow_up.follow_up_of_id == ticket.pk
    assert follow_up.status == TicketStatus.NEW and follow_up.requester == customer
    assert follow_up.subject == ticket.subject
    assert message.body_text == "It broke again" and message.author == customer
    closed = Ticket.objects.get(pk=ticket.pk)
    assert closed.status == TicketStatus.CLOSED and closed.messages.count() == 1
    (created,) = event_rows(follow_up, TicketEventType.TICKET_CREATED)
    assert created.data["follow_up_of"] == ticket.number
    (linked,) = event_rows(ticket, TicketEventType.FOLLOW_UP_CREATED)
    assert linked.data == {"follow_up": follow_up.number}
    assert [p["type"] for p in delivered_events] == ["TICKET_CREATED", "FOLLOW_UP_CREATED"]


def test_agent_cannot_reply_to_a_closed_ticket(ticket, agent_actor):
    ticket = drive_to(ticket, TicketStatus.CLOSED)
    with pytest.raises(Conflict) as info:
        message_add_reply(ticket=ticket, actor=agent_actor, body_text="Hello?")
    assert info.value.code == "ticket_closed"
    assert Ticket.objects.count() == 1 and Message.objects.count() == 1
    assert event_types(ticket)[-1] == TicketEventType.STATUS_CHANGED
