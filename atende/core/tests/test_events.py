"""The events bus: the push to browsers leaves the process only after the transaction commits, as plain JSON;
the subscribers read the committed rows (tests in test_outbox.py)."""

import pytest
from django.db import transaction

from atende.core import events
from atende.core.actor import Actor
from atende.core.exceptions import DomainError, ValidationError, full_clean_or_raise
from atende.core.scheduler import PERIODIC_TASKS, due_jobs
from atende.tickets.services import ticket_transition

pytestmark = pytest.mark.django_db


def test_delivery_waits_for_commit(delivered_events, django_capture_on_commit_callbacks, settings):
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        events.publish({"type": "PING", "n": 1})
        assert delivered_events == []  # not before commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert delivered_events == [{"type": "PING", "n": 1}]


def test_nothing_is_delivered_when_the_transaction_rolls_back(ticket, agent_actor, delivered_events,
                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(DomainError), transaction.atomic():
            ticket_transition(ticket=ticket, to="open", actor=agent_actor)
            raise DomainError("changed my mind")
    assert callbacks == [] and delivered_events == []


def test_payloads_must_be_plain_json():
    with pytest.raises(TypeError):
        events.publish({"type": "BAD", "when": object()})


def test_suppressed_events_are_not_pushed_and_are_written_as_backfill(ticket, agent_actor, delivered_events,
                                                                     django_capture_on_commit_callbacks):
    from atende.tickets.models import TicketEvent

    with django_capture_on_commit_callbacks(execute=True) as callbacks, events.events_suppressed():
        ticket_transition(ticket=ticket, to="open", actor=agent_actor)
    assert callbacks == [] and delivered_events == []
    assert TicketEvent.objects.get(ticket=ticket, type="STATUS_CHANGED").backfill is True
    assert TicketEvent.objects.get(ticket=ticket, type="TICKET_CREATED").backfill is False


def test_a_failing_on_commit_handler_does_not_stop_the_others(monkeypatch, delivered_events,
                                                              django_capture_on_commit_callbacks):
    monkeypatch.setattr(events, "ON_COMMIT_HANDLERS", ("atende.core.tests.test_events.explode",
                                                       "atende.core.testing.events.record"))
    with django_capture_on_commit_callbacks(execute=True):
        events.publish({"type": "PING"})
    assert delivered_events == [{"type": "PING"}]


@pytest.mark.django_db
def test_events_committed_inside_pushes_together_are_pushed_in_one_call_without_rolled_back_ones(
        monkeypatch, django_capture_on_commit_callbacks):
    calls = []
    monkeypatch.setattr(events, "ON_COMMIT_HANDLERS", ("atende.core.tests.test_events.record_calls",))
    monkeypatch.setattr(events, "resolve", lambda path: lambda payloads: calls.append([p["type"] for p in payloads]))
    with events.pushes_together():
        with django_capture_on_commit_callbacks(execute=True):
            events.publish({"type": "A"})
            try:
                with transaction.atomic():
                    events.publish({"type": "ROLLED_BACK"})
                    raise RuntimeError
            except RuntimeError:
                pass
            events.publish({"type": "B"})
        assert calls == []  # held until the block ends
    assert calls == [["A", "B"]]
    with django_capture_on_commit_callbacks(execute=True):
        events.publish({"type": "C"})
    assert calls == [["A", "B"], ["C"]]  # outside the block, each event as it commits


def explode(payloads):
    raise RuntimeError("subscriber bug")


def test_scheduler_enqueues_each_job_on_its_interval():
    start = 1_000_000.0
    assert set(due_jobs({}, now=start)) == set(PERIODIC_TASKS)  # everything runs on the first tick
    last = {path: start for path in PERIODIC_TASKS}
    assert due_jobs(last, now=start + 30) == []
    assert "atende.tickets.tasks.tickets_autoclose_task" in due_jobs(last, now=start + 60)


def test_actor_kinds():
    from atende.accounts.tests.factories import AgentFactory, CollaboratorFactory, CustomerFactory

    assert Actor.for_user(AgentFactory()).kind == "agent"
    assert Actor.for_user(CollaboratorFactory()).kind == "agent"
    assert Actor.for_user(CustomerFactory()).is_customer
    assert Actor.system().user_id is None
    assert Actor.automation(source_event_id=7).source_event_id == 7


def test_model_validation_errors_become_domain_errors():
    from atende.accounts.models import Team

    with pytest.raises(ValidationError) as info:
        full_clean_or_raise(Team(name="", slug="not a slug!"))
    assert info.value.status == 422 and set(info.value.details) == {"name", "slug"}
