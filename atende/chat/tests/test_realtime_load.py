"""What keeps the chat server responsive with many connections: a burst of queue changes costs each connection a
bounded number of re-reads, the agent's list ranks waiting chats like ``queue_position``, and a conversation's
messages pushed from the server's database thread arrive in the order they were written."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from atende.accounts.choices import Availability
from atende.chat import consumers, realtime
from atende.chat.choices import ChatStatus
from atende.chat.consumer_io import agent_list
from atende.chat.models import ChatSession
from atende.chat.selectors import queue_position
from atende.chat.services import AgentReply, chat_accept, chat_start
from atende.chat.tests.test_consumers import agent_socket, receive_until, visitor
from atende.chat.tokens import visitor_id_new
from atende.console.tests.realtime_helpers import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def _queued(widget, team, at, **extra) -> ChatSession:
    return ChatSession.objects.create(widget=widget, visitor_id=visitor_id_new(), team=team, question="q",
                                      status=ChatStatus.QUEUED, queued_at=at, **extra)



def hold_replies(monkeypatch, session_id=None):
    """Groups holding an agent reply (to ``session_id``, or to any conversation) wait in the database call until
    ``release`` is set; ``entered`` tells when one is waiting."""
    release, entered = threading.Event(), threading.Event()
    real = consumers.messages_write

    def slow(*, writes):
        if any(isinstance(w, AgentReply) and session_id in (None, w.session_id) for w in writes):
            entered.set()
            release.wait(30)
        return real(writes=writes)

    monkeypatch.setattr(consumers, "messages_write", slow)
    return release, entered

def test_the_agents_list_gives_each_waiting_chat_its_place_in_its_teams_queue(widget, team, admin_user, agent):
    from atende.accounts.models import Team

    other = Team.objects.create(name="Other")
    now = timezone.now()
    same_instant = now - dt.timedelta(minutes=3)
    # Two teams and none, two chats queued at the same instant (the id decides), one not yet timed.
    for chat_team, at in [(team, same_instant), (other, now - dt.timedelta(minutes=5)), (team, same_instant),
                          (None, now - dt.timedelta(minutes=4)), (other, now - dt.timedelta(minutes=1)),
                          (team, now), (team, None)]:
        _queued(widget, chat_team, at)
    active = _queued(widget, team, now - dt.timedelta(minutes=6))
    ChatSession.objects.filter(pk=active.pk).update(status=ChatStatus.ACTIVE, agent=admin_user)

    listing = agent_list(user=admin_user)
    expected = {s.pk: queue_position(s) for s in ChatSession.objects.filter(status=ChatStatus.QUEUED)}
    assert {row["id"]: row["position"] for row in listing["waiting"]} == expected
    assert sorted(expected.values(), key=lambda v: (v is None, v)) == [1, 1, 1, 2, 2, 3, None]
    assert [row["id"] for row in listing["mine"]] == [active.pk]
    assert listing["mine"][0]["position"] is None


def test_a_burst_of_queue_changes_costs_a_waiting_visitor_two_reads_and_ends_on_its_place(widget, team, monkeypatch):
    ahead = [chat_start(widget=widget, visitor_id=visitor_id_new(), question=f"Question {n}", name=f"V{n}")
             for n in range(2)]
    reads = []
    real = consumers.visitor_state

    def counted(**kwargs):
        reads.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(consumers, "visitor_state", counted)

    async def scenario():
        guest, _ = await visitor(widget)
        await guest.send_json_to({"action": "start", "question": "Where is my order?", "name": "Ana"})
        queued = await receive_until(guest, lambda f: f["type"] == "state" and f["status"] == "queued")
        # The two ahead leave without a push; then twenty queue changes arrive at once.
        await _end(ahead)
        layer = get_channel_layer()
        for _ in range(20):
            await layer.group_send(realtime.waiting_group(team.pk), {"type": "chat.queue", "team_id": team.pk})
        first = await receive_until(guest, lambda f: f["type"] == "state")
        last = first
        while last["position"] != 1:
            last = await receive_until(guest, lambda f: f["type"] == "state")
        await guest.disconnect()
        return queued, last

    queued, last = async_to_sync(scenario)()
    assert queued["position"] == 3 and last["position"] == 1
    assert 1 <= len(reads) <= 3  # one per change would be twenty


async def _end(sessions):
    from channels.db import database_sync_to_async

    await database_sync_to_async(ChatSession.objects.filter(pk__in=[s.pk for s in sessions]).update)(
        status=ChatStatus.ENDED)


def test_messages_sent_back_to_back_reach_the_agent_in_the_order_they_were_written(widget, agent, settings):
    settings.ATENDE_THROTTLE_RATES = {**settings.ATENDE_THROTTLE_RATES, "chat.message.visitor": "",
                                      "chat.message.ip": ""}
    agent.availability = Availability.ONLINE
    agent.save()
    cookie = session_cookie(agent)

    async def scenario():
        from channels.db import database_sync_to_async

        desk = agent_socket(cookie)
        assert (await desk.connect())[0]
        guest, _ = await visitor(widget)
        await guest.send_json_to({"action": "start", "question": "Where is my order?", "name": "Ana"})
        await receive_until(guest, lambda f: f["type"] == "state" and f["status"] == "queued")
        session = await database_sync_to_async(ChatSession.objects.get)(name="Ana")
        await database_sync_to_async(chat_accept)(session=session, agent=agent)
        await desk.send_json_to({"action": "open", "session_id": session.pk})
        await receive_until(desk, lambda f: f["type"] == "conversation")
        for n in range(12):
            await guest.send_json_to({"action": "message", "text": f"part {n}", "cid": f"c{n}"})
        seen = []
        while len(seen) < 12:
            frame = await receive_until(desk, lambda f: f["type"] == "event" and f["event"].get("type") == "message"
                                        and f["event"]["message"]["from"] == "visitor")
            seen.append(frame["event"]["message"]["cid"])
        await guest.disconnect()
        await desk.disconnect()
        return seen

    assert async_to_sync(scenario)() == [f"c{n}" for n in range(12)]


def _active_chat(widget, agent) -> ChatSession:
    agent.availability = Availability.ONLINE
    agent.save()
    session = chat_start(widget=widget, visitor_id=visitor_id_new(), question="Where is my order?", name="Ana")
    return chat_accept(session=session, agent=agent)


def test_a_visitors_message_reaches_the_agent_while_the_agents_own_reply_waits_for_the_database(
        widget, agent, monkeypatch):
    """An agent holds many conversations: a reply of theirs that waits (for the database's write lock) must not
    hold up the messages the other conversations push to them meanwhile."""

    from atende.chat.tokens import visitor_token_make

    session = _active_chat(widget, agent)
    other = _active_chat(widget, agent)
    token = visitor_token_make(widget_key=widget.key, visitor_id=other.visitor_id)
    cookie = session_cookie(agent)
    release, entered = hold_replies(monkeypatch)

    async def scenario():
        import asyncio

        desk = agent_socket(cookie)
        assert (await desk.connect())[0]
        for chat in (session, other):
            await desk.send_json_to({"action": "open", "session_id": chat.pk})
            await receive_until(desk, lambda f: f["type"] == "conversation")
        guest, _ = await visitor(widget, token)
        await desk.send_json_to({"action": "reply", "session_id": session.pk, "text": "Looking", "cid": "a1"})
        await asyncio.to_thread(entered.wait, 30)
        await guest.send_json_to({"action": "message", "text": "Still there?", "cid": "v1"})
        seen = await receive_until(desk, lambda f: f["type"] == "event" and f["event"].get("type") == "message",
                                   timeout=20)
        reply_waiting = not release.is_set()
        release.set()
        done = await receive_until(desk, lambda f: f["type"] == "done")
        await guest.disconnect()
        await desk.disconnect()
        return seen, reply_waiting, done

    seen, reply_waiting, done = async_to_sync(scenario)()
    assert seen["session_id"] == other.pk and seen["event"]["message"]["text"] == "Still there?"
    assert reply_waiting
    assert done["action"] == "reply" and done["message"]["text"] == "Looking"


def test_an_agents_replies_sent_back_to_back_are_answered_and_delivered_in_order(widget, agent):
    session = _active_chat(widget, agent)
    cookie = session_cookie(agent)
    from atende.chat.tokens import visitor_token_make

    token = visitor_token_make(widget_key=widget.key, visitor_id=session.visitor_id)

    async def scenario():
        desk = agent_socket(cookie)
        assert (await desk.connect())[0]
        await desk.send_json_to({"action": "open", "session_id": session.pk})
        await receive_until(desk, lambda f: f["type"] == "conversation")
        guest, _ = await visitor(widget, token)
        for n in range(8):
            await desk.send_json_to({"action": "reply", "session_id": session.pk, "text": f"part {n}", "cid": f"a{n}"})
        done, shown = [], []
        while len(done) < 8:
            done.append((await receive_until(desk, lambda f: f["type"] == "done"))["message"]["cid"])
        while len(shown) < 8:
            shown.append((await receive_until(guest, lambda f: f["type"] == "message"))["message"]["cid"])
        await guest.disconnect()
        await desk.disconnect()
        return done, shown

    done, shown = async_to_sync(scenario)()
    assert done == shown == [f"a{n}" for n in range(8)]
    assert list(session.ticket.messages.filter(author_kind="agent").order_by("id").values_list("body_text", flat=True)) \
        == [f"part {n}" for n in range(8)]


def test_an_agents_reply_waiting_for_the_database_does_not_hold_up_their_reply_in_another_conversation(
        widget, agent, monkeypatch):

    first, second = _active_chat(widget, agent), _active_chat(widget, agent)
    cookie = session_cookie(agent)
    release, entered = hold_replies(monkeypatch, session_id=first.pk)

    async def scenario():
        import asyncio

        desk = agent_socket(cookie)
        assert (await desk.connect())[0]
        await desk.send_json_to({"action": "reply", "session_id": first.pk, "text": "One moment", "cid": "a1"})
        await asyncio.to_thread(entered.wait, 30)
        await desk.send_json_to({"action": "reply", "session_id": second.pk, "text": "Done", "cid": "b1"})
        other = await receive_until(desk, lambda f: f["type"] == "done", timeout=20)
        first_waiting = not release.is_set()
        release.set()
        then = await receive_until(desk, lambda f: f["type"] == "done")
        await desk.disconnect()
        return other, first_waiting, then

    other, first_waiting, then = async_to_sync(scenario)()
    assert (other["session_id"], other["message"]["text"], first_waiting) == (second.pk, "Done", True)
    assert (then["session_id"], then["message"]["text"]) == (first.pk, "One moment")


def test_a_connection_that_sends_faster_than_its_actions_run_waits_beyond_32_pending():
    """Actions run beside the dispatch loop, but a client cannot pile up unbounded work: past ``MAX_PENDING``
    the connection is not read until they have run, and every action still runs, in order."""
    import asyncio

    async def scenario():
        gate, ran = asyncio.Event(), []

        async def run(action):
            await gate.wait()
            ran.append(action)

        async def close():
            raise AssertionError("closed")

        lane = consumers.InOrder(run, close)
        await lane.put("first")
        await asyncio.sleep(0)  # it runs, and waits at the gate
        for n in range(consumers.MAX_PENDING):
            await lane.put(n)  # none of these waits
        more = asyncio.ensure_future(lane.put("more"))
        await asyncio.sleep(0.05)
        held = not more.done()
        gate.set()
        await more
        return held, ran

    held, ran = async_to_sync(scenario)()
    assert held and ran == ["first", *range(consumers.MAX_PENDING), "more"]
