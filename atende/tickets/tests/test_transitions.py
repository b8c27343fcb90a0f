"""The transition table, over every (from, to) pair: allowed moves succeed with a STATUS_CHANGED event holding the
old and new status; every other pair raises InvalidTransition and changes nothing."""

import datetime
import itertools

import pytest
from django.utils import timezone

from atende.core.actor import Actor
from atende.core.exceptions import PermissionDenied, ValidationError
from atende.tickets.choices import StatusCategory, TicketEventType, TicketStatus
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.services import InvalidTransition, ticket_transition
from atende.tickets.services.settings import ticket_settings_update
from atende.tickets.states import CATEGORY, TRANSITIONS, category_of
from atende.tickets.tests.factories import make_ticket
from atende.tickets.tests.helpers import drive_to, event_rows

STATUSES = list(TicketStatus.values)
ALLOWED = {(frm, to) for frm, targets in TRANSITIONS.items() for to in targets}
PAIRS = list(itertools.product(STATUSES, STATUSES))

pytestmark = pytest.mark.django_db


def test_table_is_the_documented_lifecycle():
    expected = {
        ("new", "open"), ("new", "pending"), ("new", "on_hold"), ("new", "solved"),
        ("open", "pending"), ("open", "on_hold"), ("open", "solved"),
        ("pending", "open"), ("pending", "on_hold"), ("pending", "solved"),
        ("on_hold", "open"), ("on_hold", "pending"), ("on_hold", "solved"),
        ("solved", "open"), ("solved", "closed"),
    }
    assert ALLOWED == expected
    assert {s: c for s, c in CATEGORY.items()} == {
        "new": StatusCategory.OPEN, "open": StatusCategory.OPEN, "pending": StatusCategory.PAUSED,
        "on_hold": StatusCategory.PAUSED, "solved": StatusCategory.RESOLVED, "closed": StatusCategory.RESOLVED,
    }


@pytest.mark.parametrize(("frm", "to"), sorted(p for p in PAIRS if p in ALLOWED))
def test_allowed_move_changes_status_and_records_event(frm, to, customer, agent, delivered_events,
                                                       django_capture_on_commit_callbacks):
    ticket = drive_to(make_ticket(requester=customer), frm)
    version_before = ticket.version
    events_before = TicketEvent.objects.count()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        returned = ticket_transition(ticket=ticket, to=to, actor=Actor.for_user(agent), reason="test")

    row = Ticket.objects.get(pk=ticket.pk)
    assert row.status == returned.status == to
    assert row.version == version_before + 1
    assert row.status_changed_at is not None
    assert TicketEvent.objects.count() == events_before + 1
    event = event_rows(ticket)[-1]
    assert event.type == TicketEventType.STATUS_CHANGED
    assert event.data["old"] == frm and event.data["new"] == to and event.data["reason"] == "test"
    assert event.actor_user == agent and event.actor_kind == "agent"
    assert len(callbacks) == 1
    assert delivered_events[-1]["type"] == TicketEventType.STATUS_CHANGED
    assert delivered_events[-1]["event_id"] == event.pk
    assert delivered_events[-1]["status"] == to
    assert delivered_events[-1]["ticket_version"] == row.version


@pytest.mark.parametrize(("frm", "to"), sorted(p for p in PAIRS if p not in ALLOWED))
def test_forbidden_move_raises_and_changes_nothing(frm, to, customer, agent, delivered_events,
                                                   django_capture_on_commit_callbacks):
    ticket = drive_to(make_ticket(requester=customer), frm)
    before = Ticket.objects.filter(pk=ticket.pk).values().get()
    events_before = TicketEvent.objects.count()

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(InvalidTransition) as info:
        ticket_transition(ticket=ticket, to=to, actor=Actor.for_user(agent))

    assert info.value.code == "invalid_transition"
    assert info.value.status == 409
    assert info.value.details == {"from": frm, "to": to}
    assert Ticket.objects.filter(pk=ticket.pk).values().get() == before
    assert TicketEvent.objects.count() == events_before
    assert callbacks == [] and delivered_events == []


def test_unknown_status_is_a_validation_error(ticket, agent_actor):
    with pytest.raises(ValidationError) as info:
        ticket_transition(ticket=ticket, to="archived", actor=agent_actor)
    assert info.value.code == "unknown_status"
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.NEW


@pytest.mark.parametrize(("frm", "to"), sorted(ALLOWED))
def test_customer_may_only_reopen_or_confirm(frm, to, ticket, customer):
    ticket = drive_to(ticket, frm)
    customer_moves = {("pending", "open"), ("solved", "open"), ("solved", "closed")}
    if (frm, to) in customer_moves:
        ticket_transition(ticket=ticket, to=to, actor=Actor.for_user(customer))
        assert Ticket.objects.get(pk=ticket.pk).status == to
    else:
        with pytest.raises(PermissionDenied):
            ticket_transition(ticket=ticket, to=to, actor=Actor.for_user(customer))
        assert Ticket.objects.get(pk=ticket.pk).status == frm


def test_collaborator_cannot_change_status(ticket, collaborator):
    with pytest.raises(PermissionDenied):
        ticket_transition(ticket=ticket, to=TicketStatus.OPEN, actor=Actor.for_user(collaborator))
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.NEW
    assert not TicketEvent.objects.filter(ticket=ticket, type=TicketEventType.STATUS_CHANGED).exists()


def test_solve_and_close_stamp_their_times(ticket, agent_actor):
    solved_at = timezone.now() - datetime.timedelta(days=2)
    ticket_transition(ticket=ticket, to=TicketStatus.SOLVED, actor=agent_actor, now=solved_at,
                      resolution_summary="Restarted the printer.")
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.solved_at == solved_at and row.closed_at is None
    assert row.resolution_summary == "Restarted the printer."
    closed_at = solved_at + datetime.timedelta(hours=3)
    ticket_transition(ticket=ticket, to=TicketStatus.CLOSED, actor=agent_actor, now=closed_at)
    row.refresh_from_db()
    assert row.closed_at == closed_at and row.solved_at == solved_at


def test_paused_time_is_accumulated_between_pending_and_open(ticket, agent_actor):
    start = timezone.now() - datetime.timedelta(hours=5)
    ticket_transition(ticket=ticket, to=TicketStatus.PENDING, actor=agent_actor, now=start)
    assert Ticket.objects.get(pk=ticket.pk).paused_since == start
    ticket_transition(ticket=ticket, to=TicketStatus.ON_HOLD, actor=agent_actor,
                      now=start + datetime.timedelta(hours=1))
    ticket_transition(ticket=ticket, to=TicketStatus.OPEN, actor=agent_actor, now=start + datetime.timedelta(hours=2))
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.paused_since is None
    assert row.paused_seconds == 2 * 3600


def test_on_hold_can_be_configured_to_keep_the_clock_running(ticket, agent_actor):
    ticket_settings_update(on_hold_pauses_sla=False)
    ticket_transition(ticket=ticket, to=TicketStatus.ON_HOLD, actor=agent_actor)
    assert Ticket.objects.get(pk=ticket.pk).paused_since is None
    assert category_of("on_hold", on_hold_pauses=False) == StatusCategory.OPEN
    assert category_of("on_hold") == StatusCategory.PAUSED


def test_stale_expected_version_is_refused(ticket, agent_actor):
    ticket_transition(ticket=ticket, to=TicketStatus.OPEN, actor=agent_actor, expected_version=ticket.version)
    from atende.core.exceptions import Conflict

    with pytest.raises(Conflict) as info:
        ticket_transition(ticket=ticket, to=TicketStatus.PENDING, actor=agent_actor, expected_version=1)
    assert info.value.code == "stale_version"
    assert info.value.details == {"expected_version": 1, "current_version": 2}
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.OPEN


def test_solving_can_require_a_summary_and_fields(ticket, agent_actor):
    from atende.tickets.tests.factories import CustomFieldFactory

    ticket_settings_update(require_resolution_summary=True)
    with pytest.raises(ValidationError) as info:
        ticket_transition(ticket=ticket, to=TicketStatus.SOLVED, actor=agent_actor)
    assert info.value.code == "summary_required"
    CustomFieldFactory(key="root_cause", label="Root cause", required_to_solve=True)
    with pytest.raises(ValidationError) as info:
        ticket_transition(ticket=ticket, to=TicketStatus.SOLVED, actor=agent_actor, resolution_summary="Done")
    assert info.value.code == "fields_required_to_solve"
    assert info.value.details == {"fields": ["root_cause"]}
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.NEW
    assert not TicketEvent.objects.filter(ticket=ticket, type=TicketEventType.STATUS_CHANGED).exists()
