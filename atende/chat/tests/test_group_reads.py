"""What a group of messages reads before writing: the few columns its set-wise write needs, with SQL compiled once
per group size; the conversations that need a service get full copies, read together."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.chat import realtime
from atende.chat.models import ChatSession
from atende.chat.services import AgentReply, VisitorMessage, chat_messages_write
from atende.chat.tests.test_group_writes import _texts
from atende.chat.tests.test_setwise import _opened
from atende.core.actor import Actor
from atende.core.testing.compiled import count_compiled
from atende.tickets.models import Ticket
from atende.tickets.services import ticket_transition


@pytest.fixture
def pushes(monkeypatch):
    monkeypatch.setattr(realtime, "_send", lambda group, message: None)


def _writes(chats, agent, tag: str) -> list:
    half = len(chats) // 2
    return [VisitorMessage(session_id=c.pk, text=f"hi {tag}", client_id=tag) for c in chats[:half]] + \
        [AgentReply(session_id=c.pk, agent=agent, text=f"answer {tag}", client_id=tag) for c in chats[half:]]


def _reads(captured, table: str) -> list[str]:
    return [q["sql"] for q in captured.captured_queries
            if q["sql"].lstrip().upper().startswith("SELECT") and f'FROM "{table}"' in q["sql"]]


@pytest.mark.django_db
def test_a_groups_plain_messages_read_only_the_columns_their_write_needs(widget, agent, quiet, pushes):
    chats = _opened(widget, agent, 6)
    with CaptureQueriesContext(connection) as captured:
        outcomes = chat_messages_write(writes=_writes(chats, agent, "g1"))
    assert not [o for o in outcomes if isinstance(o, Exception)]
    sessions, tickets = _reads(captured, "chat_chatsession"), _reads(captured, "tickets_ticket")
    assert len(tickets) == 1 and len(sessions) == 2  # the visitors' ids (rate limits), the locked conversations
    # neither the bot's turns nor the ticket's custom fields (JSON decoded per row), nor the customer's password
    for column in ("bot_turns", "question", "page_url", "password", "custom_fields", "description"):
        assert column not in sessions[1] + tickets[0], column
    assert [_texts(c) for c in chats[:3]] == [["hi g1"]] * 3


@pytest.mark.django_db
def test_a_groups_reads_are_compiled_once_for_its_size(widget, agent, quiet, pushes, monkeypatch):
    chats = _opened(widget, agent, 6)
    chat_messages_write(writes=_writes(chats, agent, "g1"))
    compiled = count_compiled(monkeypatch)
    outcomes = chat_messages_write(writes=_writes(chats, agent, "g2"))  # the same size: the same SQL
    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert [_texts(c)[-1] for c in chats[:3]] == ["hi g2"] * 3
    assert Ticket not in compiled and compiled.count(ChatSession) == 1, compiled  # the rate limits' read only


@pytest.mark.django_db
def test_conversations_that_need_a_service_get_full_copies_read_together(widget, agent, quiet, pushes):
    chats = _opened(widget, agent, 5)
    waiting = chats[:3]
    for chat in waiting:  # a visitor's message reopens a pending ticket: the reply service writes it
        ticket_transition(ticket=chat.ticket, to="pending", actor=Actor.for_user(agent))
    writes = [VisitorMessage(session_id=c.pk, text=f"back {n}", client_id="g1") for n, c in enumerate(chats)]
    with CaptureQueriesContext(connection) as captured:
        outcomes = chat_messages_write(writes=writes)
    assert [o["text"] for o in outcomes] == [f"back {n}" for n in range(5)]
    assert [Ticket.objects.get(pk=c.ticket_id).status for c in chats] == ["open"] * 5
    sessions, tickets = _reads(captured, "chat_chatsession"), _reads(captured, "tickets_ticket")
    # the rate limits' ids, the narrow copies, the full ones (once for the three): no column read on its own
    assert len(sessions) == 3, sessions
    assert "bot_turns" in sessions[2] and "bot_turns" not in sessions[1]
    grouped = [q for q in tickets if '"id" IN (' in q]  # the group's reads (the service reads its own after)
    assert len(grouped) == 2 and "custom_fields" not in grouped[0] and "custom_fields" in grouped[1], grouped
