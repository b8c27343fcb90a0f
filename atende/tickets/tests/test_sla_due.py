"""``ticket_set_sla``: the console's "Breaching soon" reads ``sla_due_at``, set only while the clock runs."""

import datetime

import pytest
from django.utils import timezone

from atende.core.actor import Actor
from atende.tickets.choices import TicketStatus
from atende.tickets.services import ticket_set_sla, ticket_transition
from atende.tickets.services.settings import ticket_settings_update


def _due(hours):
    return timezone.now() + datetime.timedelta(hours=hours)


@pytest.mark.django_db
def test_earliest_due_time_while_open(ticket):
    first, resolution = _due(1), _due(8)
    ticket = ticket_set_sla(ticket=ticket, actor=Actor.system(), policy_id=None,
                            due={"first_reply": first, "resolution": resolution})
    assert ticket.sla_due_at == first


@pytest.mark.django_db
@pytest.mark.parametrize("pauses, expected_set", [(True, False), (False, True)])
def test_on_hold_keeps_a_due_time_only_when_it_does_not_pause(ticket, agent, pauses, expected_set):
    ticket_settings_update(on_hold_pauses_sla=pauses)
    ticket = ticket_transition(ticket=ticket, to=TicketStatus.ON_HOLD, actor=Actor.for_user(agent))
    ticket = ticket_set_sla(ticket=ticket, actor=Actor.system(), policy_id=None, due={"resolution": _due(4)})
    assert (ticket.sla_due_at is not None) is expected_set
