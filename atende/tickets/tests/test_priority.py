"""Priority: derived from urgency × impact by the configurable matrix, unless an agent set it by hand."""

import itertools

import pytest
from django.core.exceptions import ValidationError as FormError

from atende.core.actor import Actor
from atende.tickets.choices import TicketEventType
from atende.tickets.models import DEFAULT_PRIORITY_MATRIX, Ticket, TicketSettings
from atende.tickets.services import ticket_create, ticket_update
from atende.tickets.services.settings import ticket_settings_update
from atende.tickets.tests.helpers import event_rows

pytestmark = pytest.mark.django_db

LEVELS = ["low", "medium", "high"]
EXPECTED = {
    ("low", "low"): "low", ("low", "medium"): "low", ("low", "high"): "normal",
    ("medium", "low"): "low", ("medium", "medium"): "normal", ("medium", "high"): "high",
    ("high", "low"): "normal", ("high", "medium"): "high", ("high", "high"): "urgent",
}


@pytest.mark.parametrize(("urgency", "impact"), list(itertools.product(LEVELS, LEVELS)))
def test_default_matrix(urgency, impact, customer):
    ticket = ticket_create(actor=Actor.for_user(customer), requester=customer, subject="s", body_text="b",
                           urgency=urgency, impact=impact)
    assert ticket.priority == EXPECTED[(urgency, impact)] == DEFAULT_PRIORITY_MATRIX[urgency][impact]
    assert not ticket.priority_manual


def test_configured_matrix_wins_and_missing_cells_fall_back(customer):
    ticket_settings_update(priority_matrix={"low": {"low": "urgent"}})
    make = lambda u, i: ticket_create(actor=Actor.for_user(customer), requester=customer, subject="s",  # noqa: E731
                                      body_text="b", urgency=u, impact=i)
    assert make("low", "low").priority == "urgent"
    assert make("high", "high").priority == "urgent"
    assert make("medium", "medium").priority == "normal"


def test_matrix_is_validated_when_the_admin_edits_it():
    config = TicketSettings.load()
    config.priority_matrix = {"low": {"low": "critical"}}
    with pytest.raises(FormError):
        config.full_clean()
    config.priority_matrix = {"extreme": {"low": "low"}}
    with pytest.raises(FormError):
        config.full_clean()
    config.priority_matrix = {"high": {"high": "urgent"}}
    config.full_clean()


def test_manual_priority_sticks_until_reset(customer, agent):
    actor = Actor.for_user(agent)
    ticket = ticket_create(actor=actor, requester=customer, subject="s", body_text="b", priority="low",
                           urgency="high", impact="high")
    assert ticket.priority == "low" and ticket.priority_manual
    ticket_update(ticket=ticket, actor=actor, changes={"urgency": "low"})
    assert Ticket.objects.get(pk=ticket.pk).priority == "low"  # a hand-set priority is not recomputed
    ticket_update(ticket=ticket, actor=actor, changes={"priority": None, "urgency": "high"})
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.priority == "urgent" and not row.priority_manual
    events = event_rows(ticket, TicketEventType.PRIORITY_CHANGED)
    assert (events[-1].data["old"], events[-1].data["new"], events[-1].data["manual"]) == ("low", "urgent", False)


def test_setting_the_same_priority_by_hand_pins_it(ticket, agent_actor):
    ticket_update(ticket=ticket, actor=agent_actor, changes={"priority": "normal"})
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.priority == "normal" and row.priority_manual
    ticket_update(ticket=ticket, actor=agent_actor, changes={"urgency": "high", "impact": "high"})
    assert Ticket.objects.get(pk=ticket.pk).priority == "normal"
