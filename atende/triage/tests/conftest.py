"""A desk whose history has a known answer: each team gets its own vocabulary, urgency follows one word, and a
predictable dropdown field follows the product named in the text."""

import random

import pytest

from atende.accounts.tests.factories import AgentFactory, CustomerFactory, TeamFactory
from atende.core.actor import Actor
from atende.core.events import events_suppressed
from atende.tickets.choices import FieldKind, TicketStatus
from atende.tickets.services import ticket_transition
from atende.tickets.tests.factories import CategoryFactory, CustomFieldFactory, make_ticket
from atende.triage.models import PredictableField
from atende.triage.predictions import forget_loaded_model

TOPICS = {
    "Network": ["vpn does not connect", "wifi keeps dropping", "the office internet is slow", "router offline"],
    "Billing": ["invoice amount is wrong", "charged twice on my card", "refund for last month", "update billing address"],
    "Access": ["password expired", "account locked after failed logins", "reset my password", "cannot sign in to portal"],
}
PRODUCTS = {"Network": "gateway", "Billing": "payments", "Access": "identity"}


@pytest.fixture(autouse=True)
def _model_dir(settings, tmp_path):
    settings.TRIAGE_MODEL_DIR = tmp_path / "models"
    forget_loaded_model()
    yield
    forget_loaded_model()


def solve(ticket, agent):
    return ticket_transition(ticket=ticket, to=TicketStatus.SOLVED, actor=Actor.for_user(agent))


@pytest.fixture
def desk(db):
    """40 solved tickets per team (120), created through the services; returns the teams, categories and the
    predictable custom field by team name."""
    rng = random.Random(7)
    agent = AgentFactory()
    field = CustomFieldFactory(key="product", label="Product", kind=FieldKind.DROPDOWN,
                               choices=sorted(PRODUCTS.values()))
    PredictableField.objects.create(custom_field=field)
    teams = {name: TeamFactory(name=name) for name in TOPICS}
    categories = {name: CategoryFactory(name=f"{name} issues") for name in TOPICS}
    customers = [CustomerFactory() for _ in range(6)]
    tickets = []
    with events_suppressed():  # history: written as backfill, so no subscriber acts on it later
        tickets = _history(rng, agent, teams, categories, customers)
    return {"teams": teams, "categories": categories, "field": field, "agent": agent, "tickets": tickets,
            "customers": customers}


def _history(rng, agent, teams, categories, customers):
    tickets = []
    for i in range(120):
        name = list(TOPICS)[i % 3]
        phrase = rng.choice(TOPICS[name])
        urgent = i % 4 == 0
        body = f"Hello, {phrase} since this morning. {'This is urgent, everything is stopped.' if urgent else ''}"
        ticket = make_ticket(requester=rng.choice(customers), subject=phrase.capitalize(), body=body,
                             team=teams[name], category=categories[name], urgency="high" if urgent else "low",
                             impact="medium", custom_fields={"product": PRODUCTS[name]},
                             actor=Actor.for_user(agent))
        tickets.append(solve(ticket, agent))
    return tickets
