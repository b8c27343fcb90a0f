import pytest

from atende.core.actor import Actor
from atende.tickets.choices import TicketEventType, TicketStatus
from atende.tickets.models import TicketEvent
from atende.tickets.services import message_add_reply, ticket_transition


@pytest.mark.django_db
def test_agent_first_reply_opens_new_ticket(ticket, agent, delivered_events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="On it")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.first_response_at is not None
    types = list(TicketEvent.objects.filter(ticket=ticket).values_list("type", flat=True))
    assert types == [TicketEventType.TICKET_CREATED, TicketEventType.REPLY_ADDED, TicketEventType.STATUS_CHANGED]
    assert len(callbacks) == 2


@pytest.mark.django_db
def test_customer_reply_reopens_solved(ticket, agent, customer):
    ticket_transition(ticket=ticket, to=TicketStatus.SOLVED, actor=Actor.for_user(agent))
    message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Still broken")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.reopen_count == 1
