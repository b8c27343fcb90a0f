"""Internal notes, empty messages, mentions and phone calls."""

import pytest

from atende.accounts.tests.factories import AgentFactory
from atende.core.actor import Actor
from atende.core.exceptions import Conflict, PermissionDenied, ValidationError
from atende.tickets.choices import MessageKind, TicketEventType, TicketStatus
from atende.tickets.models import Message, Ticket
from atende.tickets.services import message_add_note, message_add_reply, phone_call_log
from atende.tickets.tests.helpers import drive_to, event_rows

pytestmark = pytest.mark.django_db


def test_note_is_internal_and_records_mentions(ticket, agent, collaborator, delivered_events,
                                               django_capture_on_commit_callbacks):
    mentioned = AgentFactory(email="maria@support.example")
    with django_capture_on_commit_callbacks(execute=True):
        note = message_add_note(ticket=ticket, actor=Actor.for_user(collaborator),
                                body_text="Ask @maria@support.example, and @nobody@x.example")
    assert note.kind == MessageKind.NOTE and note.author == collaborator
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.status == TicketStatus.NEW and row.first_response_at is None  # a note is not a response
    (event,) = event_rows(ticket, TicketEventType.NOTE_ADDED)
    assert event.data == {"message_id": note.pk, "mentions": [mentioned.pk], "attachments": []}
    assert [p["type"] for p in delivered_events] == ["NOTE_ADDED"]


def test_customers_cannot_write_notes_and_collaborators_cannot_reply(ticket, customer, collaborator):
    with pytest.raises(PermissionDenied):
        message_add_note(ticket=ticket, actor=Actor.for_user(customer), body_text="psst")
    with pytest.raises(PermissionDenied):
        message_add_reply(ticket=ticket, actor=Actor.for_user(collaborator), body_text="Hello customer")
    assert Message.objects.count() == 1


def test_empty_messages_are_refused(ticket, agent_actor):
    for call in (message_add_reply, message_add_note):
        with pytest.raises(ValidationError) as info:
            call(ticket=ticket, actor=agent_actor, body_text="   ", body_html="<p> </p>")
        assert info.value.code == "message_empty"
    assert Message.objects.count() == 1


def test_notes_are_refused_on_closed_tickets(ticket, agent_actor):
    ticket = drive_to(ticket, TicketStatus.CLOSED)
    with pytest.raises(Conflict):
        message_add_note(ticket=ticket, actor=agent_actor, body_text="late thought")
    assert Message.objects.count() == 1


def test_reply_with_a_stale_version_is_refused(ticket, agent_actor, customer):
    seen = ticket.version
    message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="More details")
    with pytest.raises(Conflict) as info:
        message_add_reply(ticket=ticket, actor=agent_actor, body_text="Answer", expected_version=seen)
    assert info.value.code == "stale_version"
    assert Message.objects.filter(author_kind="agent").count() == 0


def test_phone_call_creates_a_phone_ticket_or_adds_a_note(customer, agent):
    actor = Actor.for_user(agent)
    ticket = phone_call_log(actor=actor, caller=customer, notes="Cannot log in", duration_seconds=95)
    assert ticket.channel == "phone"
    first = ticket.messages.get()
    assert first.author == agent and first.metadata["phone_call"]["duration_seconds"] == 95
    (logged,) = event_rows(ticket, TicketEventType.PHONE_CALL_LOGGED)
    assert logged.data["caller_id"] == customer.pk and logged.data["direction"] == "inbound"
    phone_call_log(actor=actor, caller=customer, notes="Called back", ticket=ticket, direction="outbound")
    assert ticket.messages.filter(kind=MessageKind.NOTE).get().body_text == "Called back"
    assert len(event_rows(ticket, TicketEventType.PHONE_CALL_LOGGED)) == 2
    with pytest.raises(ValidationError):
        phone_call_log(actor=actor, caller=customer, notes="x", duration_seconds=-1)


def test_an_automated_answer_is_public_but_neither_a_response_nor_a_status_move(ticket, customer_actor):
    message = message_add_reply(ticket=ticket, actor=Actor.automation(), body_text="These articles may help.",
                                automated=True)
    ticket.refresh_from_db()
    assert message.kind == "reply" and message.author is None and message.author_kind == "automation"
    assert ticket.first_response_at is None and ticket.status == "new"
    with pytest.raises(PermissionDenied):
        message_add_reply(ticket=ticket, actor=customer_actor, body_text="I am a bot", automated=True)
