import pytest

from atende.core.actor import Actor
from atende.core.exceptions import Conflict, ValidationError
from atende.surveys.models import SatisfactionSurvey
from atende.surveys.services import survey_answer
from atende.tickets.models import TicketEvent
from atende.tickets.services import ticket_transition


@pytest.fixture
def solve(agent, django_capture_on_commit_callbacks):
    def run(ticket):
        with django_capture_on_commit_callbacks(execute=True):  # the STATUS_CHANGED subscriber runs on commit
            ticket_transition(ticket=ticket, to="solved", actor=Actor.for_user(agent))
        ticket.refresh_from_db()
        return ticket

    return run


def test_solving_creates_one_survey_idempotently(ticket, solve, agent, django_capture_on_commit_callbacks):
    assert not SatisfactionSurvey.objects.exists()
    solve(ticket)
    survey = SatisfactionSurvey.objects.get()
    assert (survey.ticket, survey.customer, survey.rating) == (ticket, ticket.requester, "")
    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(ticket=ticket, to="open", actor=Actor.for_user(ticket.requester))
    assert SatisfactionSurvey.objects.count() == 1  # reopening does not ask again
    solve(ticket)
    assert SatisfactionSurvey.objects.count() == 1


def test_answer_records_event_and_can_change_until_closed(ticket, solve, customer):
    solve(ticket)
    actor = Actor.for_user(customer)
    survey_answer(ticket=ticket, rating="bad", comment="Slow", actor=actor)
    survey_answer(ticket=ticket, rating="bad", comment="Slow", actor=actor)  # double submit: no new event
    survey = survey_answer(ticket=ticket, rating="good", comment="Fixed after all", actor=actor)
    assert (survey.rating, survey.comment, survey.times_changed) == ("good", "Fixed after all", 1)
    events = list(TicketEvent.objects.filter(ticket=ticket, type="SURVEY_ANSWERED").order_by("id"))
    assert [(e.data["old"], e.data["new"]) for e in events] == [(None, "bad"), ("bad", "good")]
    assert events[-1].actor_user == customer and events[-1].actor_kind == "customer"
    ticket_transition(ticket=ticket, to="closed", actor=actor)
    with pytest.raises(Conflict) as exc:
        survey_answer(ticket=ticket, rating="bad", actor=actor)
    assert exc.value.code == "survey_closed"
    assert SatisfactionSurvey.objects.get().rating == "good"


def test_first_answer_is_accepted_after_confirming(ticket, solve, customer):
    solve(ticket)
    ticket_transition(ticket=ticket, to="closed", actor=Actor.for_user(customer))
    assert survey_answer(ticket=ticket, rating="good", actor=Actor.for_user(customer)).rating == "good"


def test_unsolved_ticket_and_bad_rating_are_refused(ticket, solve, customer):
    with pytest.raises(Conflict):
        survey_answer(ticket=ticket, rating="good", actor=Actor.for_user(customer))
    solve(ticket)
    with pytest.raises(ValidationError):
        survey_answer(ticket=ticket, rating="meh", actor=Actor.for_user(customer))
    with pytest.raises(ValidationError):
        survey_answer(ticket=ticket, rating="good", comment="x" * 5001, actor=Actor.for_user(customer))
    assert not TicketEvent.objects.filter(type="SURVEY_ANSWERED").exists()
    assert SatisfactionSurvey.objects.get().rating == ""
