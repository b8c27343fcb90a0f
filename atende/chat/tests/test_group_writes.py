"""Messages arriving at the same moment on many connections are written together: one transaction for the
group, each message stored once and answered with its own outcome (a refused one with its error, without
failing the others), a conversation's messages in order, the other side told only after the commit."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from asgiref.sync import async_to_sync
from django.db import OperationalError, connections

from atende.chat import realtime
from atende.chat.models import ChatSession
from atende.chat.services import (
    AgentReply,
    VisitorMessage,
    chat_accept,
    chat_messages_write,
    chat_start,
    chat_visitor_end,
)
from atende.chat.tests.test_consumers import agent_socket, receive_until, visitor
from atende.chat.tokens import visitor_id_new, visitor_token_make
from atende.chat.writer import GroupWriter
from atende.console.tests.realtime_helpers import session_cookie
from atende.core.exceptions import Conflict, NotFound, ValidationError
from atende.tickets.models import Message, TicketEvent


def _chats(widget, agent, count: int) -> list[ChatSession]:
    """Conversations a person (``agent``) has accepted, each from its own network address."""
    chats = []
    for n in range(count):
        session = chat_start(widget=widget, visitor_id=visitor_id_new(), question=f"zzqx {n}", name=f"V{n}",
                             client_ip=f"10.9.0.{n + 1}")
        chats.append(chat_accept(session=session, agent=agent))
    return chats


@pytest.fixture
def commits(monkeypatch):
    """The transactions committed from now on, on any thread."""
    wrapper = type(connections["default"])
    real, counted = wrapper._commit, []
    lock = threading.Lock()

    def commit(self):
        with lock:
            counted.append(threading.get_ident())
        return real(self)

    monkeypatch.setattr(wrapper, "_commit", commit)
    return counted


def _texts(session: ChatSession, author_kind: str = "customer") -> list[str]:
    return list(Message.objects.filter(ticket_id=session.ticket_id, author_kind=author_kind,
                                       metadata__chat_cid__startswith="g").order_by("id")
                .values_list("body_text", flat=True))


# Over the websockets -----------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_messages_sent_at_once_are_stored_once_answered_each_and_written_in_one_transaction(
        widget, agent, quiet, settings, commits):
    settings.CHAT_WRITE_GATHER_SECONDS = 0.5  # a generous window: a busy machine still gathers all six
    chats = _chats(widget, agent, 6)
    chat_visitor_end(session=chats[4])  # its visitor writes on, unaware
    tokens = [visitor_token_make(widget_key=widget.key, visitor_id=chat.visitor_id) for chat in chats]
    cookie = session_cookie(agent)

    async def scenario():
        desk = agent_socket(cookie)
        assert (await desk.connect())[0]
        for chat in chats:
            await desk.send_json_to({"action": "open", "session_id": chat.pk})
            await receive_until(desk, lambda f: f["type"] == "conversation")
        guests = [(await visitor(widget, token))[0] for token in tokens]
        commits.clear()
        for n, guest in enumerate(guests):
            text = "x" * 5000 if n == 2 else f"hello from {n}"
            await guest.send_json_to({"action": "message", "text": text, "cid": f"g{n}"})
        answers = [await receive_until(guest, lambda f: f["type"] in ("ack", "error")) for guest in guests]
        pushed = set()
        while len(pushed) < 4:
            frame = await receive_until(desk, lambda f: f["type"] == "event" and f["event"].get("type") == "message")
            pushed.add((frame["session_id"], frame["event"]["message"]["text"]))
        for socket in (*guests, desk):
            await socket.disconnect()
        return answers, pushed

    answers, pushed = async_to_sync(scenario)()
    assert [a["type"] for a in answers] == ["ack", "ack", "error", "ack", "error", "ack"]
    assert answers[2]["code"] == "message_too_long" and answers[4]["code"] == "chat_ended"
    assert [a["message"]["text"] for a in answers if a["type"] == "ack"] == [
        "hello from 0", "hello from 1", "hello from 3", "hello from 5"]
    assert [_texts(chat) for chat in chats] == [["hello from 0"], ["hello from 1"], [], ["hello from 3"], [],
                                                ["hello from 5"]]
    assert pushed == {(chats[n].pk, f"hello from {n}") for n in (0, 1, 3, 5)}
    assert len(commits) == 1  # one message at a time made six


@pytest.mark.django_db(transaction=True)
def test_a_conversations_messages_keep_their_order_among_other_conversations_groups(widget, agent, quiet):
    chats = _chats(widget, agent, 4)
    tokens = [visitor_token_make(widget_key=widget.key, visitor_id=chat.visitor_id) for chat in chats]
    cookie = session_cookie(agent)

    async def scenario():
        desk = agent_socket(cookie)
        assert (await desk.connect())[0]
        await desk.send_json_to({"action": "open", "session_id": chats[0].pk})
        await receive_until(desk, lambda f: f["type"] == "conversation")
        guests = [(await visitor(widget, token))[0] for token in tokens]
        for n in range(6):  # the first visitor sends six back to back, the agent answers each, the others chat
            await guests[0].send_json_to({"action": "message", "text": f"part {n}", "cid": f"g{n}"})
            await desk.send_json_to({"action": "reply", "session_id": chats[0].pk, "text": f"reply {n}",
                                     "cid": f"g{n}"})
            for other in guests[1:]:
                await other.send_json_to({"action": "message", "text": f"other {n}", "cid": f"g{n}"})
        acks = [(await receive_until(guests[0], lambda f: f["type"] == "ack"))["cid"] for _ in range(6)]
        done, seen = [], []
        while len(done) < 6 or len(seen) < 6:
            frame = await desk.receive_json_from(timeout=60)
            if frame["type"] == "done":
                done.append(frame["message"]["cid"])
            elif frame["type"] == "event" and frame["event"].get("type") == "message" \
                    and frame["event"]["message"]["from"] == "visitor":
                seen.append(frame["event"]["message"]["text"])
        for other in guests[1:]:
            for _ in range(6):
                await receive_until(other, lambda f: f["type"] == "ack")
        for socket in (*guests, desk):
            await socket.disconnect()
        return acks, done, seen

    acks, done, seen = async_to_sync(scenario)()
    assert acks == done == [f"g{n}" for n in range(6)]
    assert seen == _texts(chats[0]) == [f"part {n}" for n in range(6)]
    assert _texts(chats[0], "agent") == [f"reply {n}" for n in range(6)]
    assert [_texts(chat) for chat in chats[1:]] == [[f"other {n}" for n in range(6)]] * 3


# The group's service -----------------------------------------------------------------------------------------

@pytest.fixture
def pushes(monkeypatch):
    sent = []
    monkeypatch.setattr(realtime, "_send", lambda group, message: sent.append((group, message)))
    return sent


@pytest.mark.django_db
def test_a_group_stores_each_message_once_in_order_and_a_refusal_leaves_nothing(
        widget, agent, other_agent, quiet, pushes, django_capture_on_commit_callbacks):
    one, two = _chats(widget, agent, 2)
    chat_messages_write(writes=[VisitorMessage(session_id=one.pk, text="sent before", client_id="g0")])
    last_event = TicketEvent.objects.order_by("-id").values_list("id", flat=True).first()
    writes = [
        VisitorMessage(session_id=one.pk, text="sent before", client_id="g0"),  # a resend after a reconnect
        VisitorMessage(session_id=one.pk, text="first", client_id="g1"),
        AgentReply(session_id=one.pk, agent=other_agent, text="not mine", client_id="g2"),
        VisitorMessage(session_id=one.pk, text="second", client_id="g3"),
        VisitorMessage(session_id=one.pk, text="second", client_id="g3"),  # sent twice in the same group
        AgentReply(session_id=two.pk, agent=agent, text="   ", client_id="g4"),
        AgentReply(session_id=two.pk, agent=agent, text="answer", client_id="g5"),
        AgentReply(session_id=999999, agent=agent, text="nowhere", client_id="g6"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = chat_messages_write(writes=writes)

    kinds = [type(o) if isinstance(o, Exception) else o["text"] for o in outcomes]
    assert kinds == ["sent before", "first", Conflict, "second", "second", ValidationError, "answer", NotFound]
    assert outcomes[0]["id"] != outcomes[1]["id"] and outcomes[3]["id"] == outcomes[4]["id"]
    assert _texts(one) == ["sent before", "first", "second"]
    assert _texts(one, "agent") == [] and _texts(two, "agent") == ["answer"]
    replies = TicketEvent.objects.filter(pk__gt=last_event, type="REPLY_ADDED")
    assert replies.count() == 3  # the three new messages; nothing of the refused ones or the resends
    pushed = [json.loads(message["text"])["message"]["text"] for _group, message in pushes if "text" in message]
    assert pushed == ["first", "second", "answer"]  # after the commit, once each, in order


@pytest.mark.django_db
def test_a_group_reads_what_its_messages_need_with_four_queries_whatever_its_size(widget, agent, quiet, pushes):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    chats = _chats(widget, agent, 6)
    chat_messages_write(writes=[AgentReply(session_id=chat.pk, agent=agent, text="hello", client_id="g0")
                                for chat in chats])  # the agents' first replies also open the tickets
    writes = [VisitorMessage(session_id=chat.pk, text="hi", client_id="g1") for chat in chats[:3]]
    writes += [AgentReply(session_id=chat.pk, agent=agent, text="hello", client_id="g2") for chat in chats[3:]]
    with CaptureQueriesContext(connection) as captured:
        outcomes = chat_messages_write(writes=writes)
    assert not [o for o in outcomes if isinstance(o, Exception)]
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    # the visitors' ids (their rate limits, before the transaction), then the conversations, their tickets, the
    # resend keys: not three per message
    assert len(reads) == 4, reads


@pytest.mark.django_db
def test_a_group_counts_its_visitors_rate_limits_before_its_transaction(widget, agent, quiet, pushes, monkeypatch,
                                                                         settings):
    """Each visitor message is counted against the limits in order, before the group's transaction: inside it,
    each count (a Redis round trip with several web processes) held SQLite's writers' turn. A refused message is
    answered with its error and stores nothing; the others are written."""
    from django.db import connection

    from atende.core import throttle

    settings.ATENDE_THROTTLE_RATES = {**settings.ATENDE_THROTTLE_RATES, "chat.message.visitor": "2/min"}
    one, two = _chats(widget, agent, 2)
    real, counted = throttle.throttle_hit, []
    outside = len(connection.atomic_blocks)

    def hit(scope, subject, *args, **kwargs):
        counted.append((scope, len(connection.atomic_blocks)))
        return real(scope, subject, *args, **kwargs)

    monkeypatch.setattr(throttle, "throttle_hit", hit)
    writes = [VisitorMessage(session_id=one.pk, text=f"m{n}", client_id=f"g{n}", client_ip="10.9.0.1")
              for n in range(3)]
    writes.append(VisitorMessage(session_id=two.pk, text="other", client_id="g9", client_ip="10.9.0.2"))
    outcomes = chat_messages_write(writes=writes)
    assert [type(o) if isinstance(o, Exception) else o["text"] for o in outcomes] == [
        "m0", "m1", throttle.Throttled, "other"]
    assert counted and all(depth == outside for _scope, depth in counted), counted
    assert _texts(one) == ["m0", "m1"] and _texts(two) == ["other"]


@pytest.mark.django_db
def test_a_group_reads_its_visitors_presence_once_before_its_transaction(widget, agent, quiet, pushes, monkeypatch):
    """Whether a reply's visitor is still there (chat, or email) is one read of the presence cache for the group,
    before the transaction: inside it, one read per reply held SQLite's writers' turn."""
    from django.db import connection

    chats = _chats(widget, agent, 3)
    realtime.presence_touch("visitor", chats[0].pk, "specific.one")
    ChatSession.objects.filter(pk__in=[chats[0].pk, chats[2].pk]).update(email="vi@example.com")
    real, reads = realtime.present, []
    outside = len(connection.atomic_blocks)

    def present(kind, idents):
        reads.append((kind, list(idents), len(connection.atomic_blocks)))
        return real(kind, idents)

    monkeypatch.setattr(realtime, "present", present)
    writes = [AgentReply(session_id=chat.pk, agent=agent, text="hello", client_id="g1") for chat in chats]
    writes.append(VisitorMessage(session_id=chats[1].pk, text="hi", client_id="g2"))
    outcomes = chat_messages_write(writes=writes)
    assert [o["text"] for o in outcomes] == ["hello", "hello", "hello", "hi"]
    assert reads == [("visitor", sorted(chat.pk for chat in chats), outside)]
    channels = [Message.objects.get(pk=int(o["id"].lstrip("m"))).channel for o in outcomes[:3]]
    assert channels == ["chat", "chat", "email"]  # here: pushed; gone with an email known: mailed


@pytest.mark.django_db
def test_a_group_whose_transaction_fails_is_written_message_by_message(widget, agent, quiet, pushes, monkeypatch):
    from atende.chat.services import messages

    chats = _chats(widget, agent, 3)
    real, calls = messages.lock_group, []

    def failing_once(keys, **options):
        calls.append(sorted(keys))
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real(keys, **options)

    monkeypatch.setattr(messages, "lock_group", failing_once)
    outcomes = chat_messages_write(writes=[VisitorMessage(session_id=chat.pk, text=f"hi {n}", client_id="g1")
                                           for n, chat in enumerate(chats)])
    assert [o["text"] for o in outcomes] == ["hi 0", "hi 1", "hi 2"]
    assert [_texts(chat) for chat in chats] == [["hi 0"], ["hi 1"], ["hi 2"]]
    assert calls == [sorted(c.pk for c in chats), [chats[0].pk], [chats[1].pk], [chats[2].pk]]


# The writer --------------------------------------------------------------------------------------------------

def _writer(log: list, *, gate: asyncio.Event | None = None, **options) -> GroupWriter:
    async def write(items):
        log.append(list(items))
        if gate is not None and "hold" in items:
            await gate.wait()
        return [ValueError(item) if item == "bad" else item.upper() for item in items]

    return GroupWriter(write, **{"gather": 0.01, "most": 100, **options})


def test_the_writer_gathers_what_arrives_together_and_answers_each_sender():
    async def scenario():
        log = []
        writer = _writer(log)
        results = await asyncio.gather(*(writer.submit(n, item) for n, item in enumerate(["a", "bad", "c"])),
                                       return_exceptions=True)
        return log, results

    log, results = async_to_sync(scenario)()
    assert log == [["a", "bad", "c"]]
    assert results[0] == "A" and isinstance(results[1], ValueError) and results[2] == "C"


def test_the_writer_keeps_a_conversation_behind_its_group_and_writes_a_second_group_beside_a_stalled_one():
    async def scenario():
        log, gate = [], asyncio.Event()
        writer = _writer(log, gate=gate, stall=0.05, most=2)
        held = asyncio.ensure_future(writer.submit("one", "hold"))
        await asyncio.sleep(0.03)  # the group with "hold" is being written, and waits
        later = asyncio.ensure_future(writer.submit("one", "after"))  # same conversation: waits for it
        other = asyncio.ensure_future(writer.submit("two", "other"))
        done_other = await asyncio.wait_for(other, 5)
        waiting = not later.done()
        gate.set()
        return log, done_other, waiting, await held, await later

    log, done_other, waiting, held, later = async_to_sync(scenario)()
    assert log == [["hold"], ["other"], ["after"]]
    assert (done_other, waiting, held, later) == ("OTHER", True, "HOLD", "AFTER")
