"""Every TicketEvent row a service writes is delivered to subscribers exactly once, after commit, with its id."""

import pytest

from atende.accounts.tests.factories import CustomerFactory
from atende.core.actor import Actor
from atende.tickets.choices import LinkKind, TicketStatus, TicketType
from atende.tickets.models import TicketEvent
from atende.tickets.services import (
    IncomingFile,
    message_add_note,
    message_add_reply,
    phone_call_log,
    ticket_assign,
    ticket_change_requester,
    ticket_link,
    ticket_mark_spam,
    ticket_merge,
    ticket_set_followers,
    ticket_set_tags,
    ticket_transition,
    ticket_unlink,
    ticket_update,
)
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def _calls(customer, agent, team):
    actor = Actor.for_user(agent)
    a = make_ticket(requester=customer)
    b = make_ticket(requester=customer, type=TicketType.PROBLEM)
    return [
        lambda: make_ticket(requester=customer, attachments=[IncomingFile("a.txt", b"a", "text/plain")]),
        lambda: message_add_reply(ticket=a, actor=actor, body_text="Hi"),
        lambda: message_add_reply(ticket=a, actor=Actor.for_user(customer), body_text="Thanks"),
        lambda: message_add_note(ticket=a, actor=actor, body_text="note"),
        lambda: ticket_update(ticket=a, actor=actor, changes={"subject": "New", "urgency": "high", "tags": ["x"]}),
        lambda: ticket_assign(ticket=a, actor=actor, team=team, assignee=agent),
        lambda: ticket_set_tags(ticket=a, actor=actor, add=["y"]),
        lambda: ticket_set_followers(ticket=a, actor=actor, followers=[CustomerFactory()]),
        lambda: ticket_change_requester(ticket=a, actor=actor, requester=CustomerFactory()),
        lambda: ticket_link(source=b, target=a, kind=LinkKind.PROBLEM, actor=actor),
        lambda: ticket_transition(ticket=b, to=TicketStatus.SOLVED, actor=actor),
        lambda: ticket_unlink(source=b, target=a, kind=LinkKind.PROBLEM, actor=actor),
        lambda: phone_call_log(actor=actor, caller=customer, notes="call"),
        lambda: ticket_merge(source=make_ticket(requester=customer), target=make_ticket(requester=customer),
                             actor=actor),
        lambda: ticket_mark_spam(ticket=make_ticket(requester=customer), actor=actor),
    ]


def test_each_service_delivers_exactly_the_events_it_wrote(customer, agent, team, delivered_events,
                                                           django_capture_on_commit_callbacks):
    for call in _calls(customer, agent, team):
        before = set(TicketEvent.objects.values_list("id", flat=True))
        delivered_events.clear()
        with django_capture_on_commit_callbacks(execute=True):
            call()
        written = TicketEvent.objects.exclude(id__in=before).order_by("id")
        assert written.exists()
        assert [p["event_id"] for p in delivered_events] == [e.id for e in written]
        assert [p["type"] for p in delivered_events] == [e.type for e in written]
        for payload, event in zip(delivered_events, written, strict=True):
            assert payload["ticket_id"] == event.ticket_id and payload["data"] == event.data
            assert payload["actor_kind"] == event.actor_kind
