"""``TicketChanges.add_reply``: a plain public reply written set-wise, with the rows ``message_add_reply`` writes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.core.actor import Actor
from atende.core.exceptions import Conflict
from atende.tickets.choices import TicketEventType, TicketStatus
from atende.tickets.models import Message, Ticket
from atende.tickets.search import reindex_tickets, search_tickets
from atende.tickets.services import TicketChanges, message_add_reply
from atende.tickets.tests.factories import make_ticket
from atende.tickets.tests.helpers import drive_to, event_rows

pytestmark = pytest.mark.django_db

REPLIES = [("customer", "Still broken", "email", "msg-1", {"via": "mail"}),
           ("agent", "Try again", "web", "", None),
           ("agent", "Any news?", "", "", {"n": 2})]


def _open_ticket(customer, subject: str) -> Ticket:
    """An open ticket nobody answered yet: the agent's first reply below is its first response."""
    return drive_to(make_ticket(requester=customer, subject=subject), TicketStatus.OPEN)


def _stored(ticket: Ticket, base_version: int) -> tuple:
    ticket.refresh_from_db()
    messages = list(Message.objects.filter(ticket=ticket).order_by("id"))[1:]  # after the opening message
    rows = [(m.kind, m.author_id, m.author_kind, m.channel, m.body_text, m.body_html, m.external_id, m.metadata)
            for m in messages]
    events = event_rows(ticket, TicketEventType.REPLY_ADDED)
    assert [e.data["message_id"] for e in events] == [m.pk for m in messages]
    data = [(e.actor_kind, e.actor_user_id, e.data | {"message_id": 0}) for e in events]
    return (rows, data, ticket.version - base_version, ticket.status, ticket.first_response_at is not None,
            ticket.last_customer_reply_at is not None, ticket.last_agent_reply_at is not None)


def test_replies_are_stored_as_the_reply_service_stores_them(customer, agent):
    one, two = _open_ticket(customer, "One"), _open_ticket(customer, "Two")
    base = {one.pk: one.version, two.pk: two.version}
    people = {"customer": customer, "agent": agent}
    for who, text, channel, external_id, metadata in REPLIES:
        message_add_reply(ticket=one, actor=Actor.for_user(people[who]), author=people[who], body_text=text,
                          channel=channel or None, external_id=external_id, metadata=metadata)
    changes = TicketChanges()
    two = Ticket.objects.get(pk=two.pk)
    for who, text, channel, external_id, metadata in REPLIES:
        changes.add_reply(two, actor=Actor.for_user(people[who]), author=people[who], body_text=text,
                          channel=channel or None, external_id=external_id, metadata=metadata)
    changes.save()

    assert _stored(one, base[one.pk]) == _stored(two, base[two.pk])
    assert [d["first_response"] for _kind, _user, d in _stored(two, base[two.pk])[1]] == [False, True, False]
    assert two.first_response_at == changes.now  # the first agent's reply, not moved by the second
    assert two.last_agent_reply_at == two.last_customer_reply_at == changes.now


def test_replies_to_many_tickets_are_written_together_and_appended_to_the_search_index(customer, agent):
    tickets = [_open_ticket(customer, f"Printer {n}") for n in range(3)]
    Message.objects.filter(ticket__in=tickets).update(body_text="It jams")  # directly: the index rows keep it
    changes = TicketChanges(locked=True)
    for ticket in tickets:
        changes.add_reply(ticket, actor=Actor.for_user(customer), author=customer, body_text="okapi tray")
        changes.add_reply(ticket, actor=Actor.for_user(agent), author=agent, body_text="narwhal tray")
    with CaptureQueriesContext(connection) as captured:
        changes.save()
    statements = [q["sql"].lstrip() for q in captured.captured_queries]
    assert len([s for s in statements if s.startswith("INSERT") and "tickets_message" in s.split("(")[0]]) == 1
    assert len([s for s in statements if s.startswith("INSERT") and "tickets_ticketevent" in s.split("(")[0]]) == 1
    # appended: one UPDATE for the three tickets' first replies, one for their second ones (was one per message)
    assert [s.split(None, 1)[0] for s in statements if "ticket_search" in s] == ["UPDATE"] * 2
    numbers = sorted(t.number for t in tickets)
    assert sorted(h.ticket.number for h in search_tickets(user=agent, query="okapi narwhal").items) == numbers
    assert sorted(h.ticket.number for h in search_tickets(user=agent, query="fire").items) == numbers  # not rebuilt
    reindex_tickets([t.pk for t in tickets])
    assert search_tickets(user=agent, query="fire").items == []


def test_replies_that_move_the_ticket_are_left_to_the_reply_service(customer, agent):
    changes = TicketChanges()
    new = make_ticket(requester=customer)
    with pytest.raises(ValueError):  # an agent's first reply opens it
        changes.add_reply(new, actor=Actor.for_user(agent), author=agent, body_text="Hello")
    pending = drive_to(make_ticket(requester=customer), TicketStatus.PENDING)
    with pytest.raises(ValueError):  # a customer's reply reopens it
        changes.add_reply(pending, actor=Actor.for_user(customer), author=customer, body_text="Hello")
    closed = drive_to(make_ticket(requester=customer), TicketStatus.CLOSED)
    with pytest.raises(Conflict):
        changes.add_reply(closed, actor=Actor.for_user(agent), author=agent, body_text="Hello")
    assert not changes
