from atende.core.actor import Actor
from atende.surveys.demo import load_demo
from atende.surveys.models import SatisfactionSurvey
from atende.tickets.services import ticket_transition
from atende.tickets.tests.factories import make_ticket


def test_demo_rates_solved_tickets_once(customer):
    for _ in range(5):
        ticket_transition(ticket=make_ticket(requester=customer), to="solved", actor=Actor.system())
    first = load_demo()["surveys"]
    assert first == SatisfactionSurvey.objects.exclude(rating="").count() > 0
    assert load_demo() == {"surveys": 0}
