"""A group's plain messages are written set-wise (one INSERT of messages, one UPDATE per set of tickets, one INSERT
of events) with the rows the reply service writes; a conversation that needs the service, and a set-wise write the
database refuses, are written message by message, each under its savepoint."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from atende.chat import realtime
from atende.chat.models import ChatSession
from atende.chat.services import AgentReply, VisitorMessage, chat_agent_reply, chat_messages_write, chat_visitor_message
from atende.chat.tests.test_group_writes import _chats, _texts
from atende.core.actor import Actor
from atende.tickets.models import Message, Ticket, TicketEvent
from atende.tickets.services import _common as ticket_common
from atende.tickets.services import ticket_transition


@pytest.fixture
def pushes(monkeypatch):
    sent = []
    monkeypatch.setattr(realtime, "_send", lambda group, message: sent.append((group, message)))
    return sent


def _pushed(pushes) -> list[str]:
    return [json.loads(message["text"])["message"]["text"] for _group, message in pushes if "text" in message]


def _opened(widget, agent, count: int) -> list[ChatSession]:
    """Accepted conversations whose tickets the agent's first reply opened (that reply moves the status: the
    service writes it)."""
    chats = _chats(widget, agent, count)
    chat_messages_write(writes=[AgentReply(session_id=c.pk, agent=agent, text="hello", client_id="h0") for c in chats])
    return [ChatSession.objects.get(pk=c.pk) for c in chats]


def _statements(captured) -> Counter:
    """The statements written, by kind and table, leaving out the search index's rows (one UPDATE for the
    group's tickets: each message's text appended) and the reads."""
    kinds: Counter = Counter()
    for query in captured.captured_queries:
        sql = query["sql"].lstrip()
        words = sql.split(None, 3)
        kind = words[0].upper()
        if kind == "SELECT" or "ticket_search" in sql:
            continue
        table = words[2] if kind == "INSERT" else words[1] if kind == "UPDATE" else ""
        kinds[f"{kind} {table.strip(chr(34))}".strip()] += 1
    return kinds


@pytest.mark.django_db
def test_a_groups_plain_messages_are_written_with_the_same_statements_whatever_its_size(widget, agent, quiet, pushes):
    chats = _opened(widget, agent, 8)
    counted = []
    for size in (2, 8):
        writes = [VisitorMessage(session_id=c.pk, text=f"hi {size}", client_id=f"g{size}") for c in chats[:size // 2]]
        writes += [AgentReply(session_id=c.pk, agent=agent, text=f"answer {size}", client_id=f"g{size}")
                   for c in chats[size // 2:size]]
        with CaptureQueriesContext(connection) as captured:
            outcomes = chat_messages_write(writes=writes)
        assert not [o for o in outcomes if isinstance(o, Exception)]
        counted.append(_statements(captured))
    assert counted[0] == counted[1] == Counter({
        "SAVEPOINT": 2, "RELEASE": 2,  # the group's (inside the test's transaction) and the set-wise write's
        "INSERT tickets_message": 1, "INSERT tickets_ticketevent": 1,
        "UPDATE tickets_ticket": 2,  # the visitors' tickets (last customer reply), the agents' (last agent reply)
    }), counted
    assert [_texts(c)[-1:] for c in chats] == [["hi 8"]] * 4 + [[]] * 4


@pytest.mark.django_db
def test_a_set_wise_message_is_stored_as_the_reply_services_store_it(widget, agent, quiet, pushes, monkeypatch):
    published = []
    monkeypatch.setattr(ticket_common, "publish", published.append)
    one, two = _chats(widget, agent, 2)
    for chat in (one, two):  # open without a reply: the agent's reply below is the first response
        ticket_transition(ticket=chat.ticket, to="open", actor=Actor.for_user(agent))
    base = {t.pk: t.version for t in Ticket.objects.filter(pk__in=[one.ticket_id, two.ticket_id])}
    published.clear()
    with CaptureQueriesContext(connection) as captured:
        chat_messages_write(writes=[VisitorMessage(session_id=one.pk, text=" hi\r\n there ", client_id="c1"),
                                    AgentReply(session_id=one.pk, agent=agent, text="answer", client_id="c2"),
                                    AgentReply(session_id=one.pk, agent=agent, text="more", client_id="c3")])
    written = _statements(captured)
    # one INSERT of the messages, one of the events; the search index appends each message (one UPDATE per
    # message of the same ticket, in order; one for the group's other tickets) instead of rebuilding the row
    assert written["INSERT tickets_message"] == 1 and written["INSERT tickets_ticketevent"] == 1
    index = [q["sql"].lstrip().split(None, 1)[0].upper() for q in captured.captured_queries
             if "ticket_search" in q["sql"]]
    assert index == ["UPDATE"] * 3, index
    assert not [q for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("DELETE")]
    chat_visitor_message(session=two.pk, text=" hi\r\n there ", client_id="c1")
    chat_agent_reply(session=two.pk, agent=agent, text="answer", client_id="c2")
    chat_agent_reply(session=two.pk, agent=agent, text="more", client_id="c3")

    def stored(chat):
        ticket = Ticket.objects.get(pk=chat.ticket_id)
        messages = [(m.kind, "visitor" if m.author_id == chat.customer_id else m.author_id, m.author_kind, m.channel,
                     m.body_text, m.body_html, m.external_id.replace(f"chat:{chat.pk}:", "chat:S:"),
                     m.metadata | {"chat_session": "S"})
                    for m in Message.objects.filter(ticket=ticket, external_id__startswith="chat:").order_by("id")]
        events = [(e.type, e.actor_kind, "visitor" if e.actor_user_id == chat.customer_id else e.actor_user_id,
                   e.data | {"message_id": 0, "author_id": "visitor" if e.data["author_id"] == chat.customer_id
                             else e.data["author_id"]}, e.created_at is not None)
                  for e in TicketEvent.objects.filter(ticket=ticket, type="REPLY_ADDED").order_by("id")]
        payloads = [(p["type"], p["ticket_version"] - base[ticket.pk], p["status"]) for p in published
                    if p["ticket_id"] == ticket.pk]
        return (messages, events, payloads, ticket.version - base[ticket.pk], ticket.status,
                ticket.first_response_at is not None, ticket.last_customer_reply_at is not None,
                ticket.last_agent_reply_at is not None)

    assert stored(one) == stored(two)
    replies = [data for _type, kind, _user, data, _at in stored(one)[1] if kind != "automation"]  # not the bot's
    assert [data["first_response"] for data in replies] == [False, True, False]
    assert stored(one)[2] == [("REPLY_ADDED", 1, "open"), ("REPLY_ADDED", 2, "open"), ("REPLY_ADDED", 3, "open")]


@pytest.mark.django_db
def test_a_conversation_whose_message_needs_the_service_is_written_by_it_in_order(widget, agent, quiet, pushes):
    waiting, plain = _opened(widget, agent, 2)
    ticket_transition(ticket=waiting.ticket, to="pending", actor=Actor.for_user(agent))
    outcomes = chat_messages_write(writes=[
        VisitorMessage(session_id=waiting.pk, text="back", client_id="g1"),  # reopens the ticket: the service
        VisitorMessage(session_id=plain.pk, text="plain", client_id="g1"),
        VisitorMessage(session_id=waiting.pk, text="again", client_id="g2"),
    ])
    assert [o["text"] for o in outcomes] == ["back", "plain", "again"]
    assert _texts(waiting) == ["back", "again"] and _texts(plain) == ["plain"]
    assert Ticket.objects.get(pk=waiting.ticket_id).status == "open"
    assert TicketEvent.objects.filter(ticket_id=waiting.ticket_id, type="STATUS_CHANGED",
                                      data__reason="customer_reply").count() == 1


@pytest.mark.django_db
def test_a_message_the_database_refuses_fails_alone_and_the_rest_of_its_group_is_written(
        widget, agent, quiet, pushes, django_capture_on_commit_callbacks):
    if connection.vendor != "sqlite":
        pytest.skip("the refusal is made with an SQLite trigger")
    one, two, three = _opened(widget, agent, 3)
    versions = dict(Ticket.objects.filter(pk__in=[c.ticket_id for c in (one, two, three)]).values_list("pk", "version"))
    events = TicketEvent.objects.count()
    pushes.clear()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TRIGGER poison BEFORE INSERT ON tickets_message WHEN NEW.body_text = 'poison' "
                       "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            outcomes = chat_messages_write(writes=[
                VisitorMessage(session_id=one.pk, text="a", client_id="g1"),
                VisitorMessage(session_id=two.pk, text="poison", client_id="g1"),
                AgentReply(session_id=three.pk, agent=agent, text="b", client_id="g1"),
                VisitorMessage(session_id=one.pk, text="c", client_id="g2"),
            ])
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS poison")
    assert [type(o) if isinstance(o, Exception) else o["text"] for o in outcomes] == ["a", IntegrityError, "b", "c"]
    assert _texts(one) == ["a", "c"] and _texts(two) == [] and _texts(three, "agent") == ["b"]
    assert TicketEvent.objects.count() == events + 3  # nothing of the undone set-wise write, nothing of "poison"
    after = dict(Ticket.objects.filter(pk__in=list(versions)).values_list("pk", "version"))
    assert [after[c.ticket_id] - versions[c.ticket_id] for c in (one, two, three)] == [2, 0, 1]
    assert _pushed(pushes) == ["a", "b", "c"]
