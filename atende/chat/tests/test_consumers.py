"""Live chat's websockets on the real ASGI application (in-memory channel layer): visitor ↔ agent, the origin
allow-list, resuming after a reload, idempotent resends."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.conf import settings

from atende.accounts.choices import Availability
from atende.chat.models import ChatSession
from atende.config.asgi import application
from atende.console.tests.realtime_helpers import WebsocketCommunicator, session_cookie
from atende.tickets.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = b"https://shop.example"


async def receive_until(socket, predicate, *, timeout: float = 60) -> dict:
    """Skip unrelated frames until one matches (generous timeout: a first call imports a lot on a busy machine)."""
    while True:
        frame = await socket.receive_json_from(timeout=timeout)
        if predicate(frame):
            return frame


def visitor_socket(widget, origin: bytes = ORIGIN) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, f"/ws/chat/{widget.key}/", headers=[(b"origin", origin)])


def agent_socket(cookie: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, "/ws/console/chat/", headers=[
        (b"origin", b"http://127.0.0.1"), (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())])


async def visitor(widget, token: str = "") -> tuple[WebsocketCommunicator, dict]:
    socket = visitor_socket(widget)
    ok, _ = await socket.connect()
    assert ok
    await socket.send_json_to({"action": "hello", "token": token})
    hello = await socket.receive_json_from(timeout=60)
    assert hello["type"] == "hello"
    return socket, hello


def test_origins_off_the_allow_list_and_unknown_widgets_are_refused(widget):
    async def scenario():
        codes = []
        for socket in (visitor_socket(widget, b"https://evil.example"), visitor_socket(widget, b""),
                       WebsocketCommunicator(application, "/ws/chat/nope/", headers=[(b"origin", ORIGIN)])):
            ok, code = await socket.connect()
            codes.append((ok, code))
        return codes

    assert async_to_sync(scenario)() == [(False, 4403), (False, 4403), (False, 4404)]


def test_the_desks_own_pages_may_use_any_widget(widget):
    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws/chat/{widget.key}/", headers=[
            (b"origin", b"http://desk.example:8000"), (b"host", b"desk.example:8000")])
        ok, _ = await socket.connect()
        await socket.disconnect()
        spoofed = WebsocketCommunicator(application, f"/ws/chat/{widget.key}/", headers=[
            (b"origin", b"http://evil.example"), (b"host", b"desk.example:8000")])
        return ok, (await spoofed.connect())[0]

    assert async_to_sync(scenario)() == (True, False)


def test_visitor_and_agent_talk_live_and_typing_shows_both_ways(widget, agent, article):
    agent.availability = Availability.ONLINE
    agent.save()
    cookie = session_cookie(agent)

    async def scenario():
        desk = agent_socket(cookie)
        assert (await desk.connect())[0]
        await receive_until(desk, lambda f: f["type"] == "list")
        guest, hello = await visitor(widget)
        assert hello["online"] is True and hello["token"]
        await guest.send_json_to({"action": "start", "question": "How do I reset my password?", "name": "Ana"})
        history = await receive_until(guest, lambda f: f["type"] == "history")
        assert history["messages"][1]["articles"][0]["title"] == article.title
        await guest.send_json_to({"action": "human"})
        state = await receive_until(guest, lambda f: f["type"] == "state" and f["status"] == "queued")
        assert state["position"] == 1
        listing = await receive_until(desk, lambda f: f["type"] == "list" and f["waiting"])
        session_id = listing["waiting"][0]["id"]
        assert listing["waiting"][0]["offered_to_me"] is True
        await desk.send_json_to({"action": "open", "session_id": session_id})
        conversation = await receive_until(desk, lambda f: f["type"] == "conversation")
        assert [m["from"] for m in conversation["messages"]] == ["visitor", "bot"]
        await desk.send_json_to({"action": "accept", "session_id": session_id})
        active = await receive_until(guest, lambda f: f["type"] == "state" and f["status"] == "active")
        assert active["agent"] == agent.first_name
        await desk.send_json_to({"action": "typing", "session_id": session_id, "typing": True})
        assert (await receive_until(guest, lambda f: f["type"] == "typing"))["typing"] is True
        await guest.send_json_to({"action": "typing", "typing": True})
        assert (await receive_until(desk, lambda f: f["type"] == "typing"))["session_id"] == session_id
        await desk.send_json_to({"action": "reply", "session_id": session_id, "text": "Hi Ana <script>", "cid": "a1"})
        pushed = await receive_until(guest, lambda f: f["type"] == "message")
        stored = await receive_until(desk, lambda f: f["type"] == "done" and f["action"] == "reply")
        # The page holds a reply until it is answered, and sends it again after a reconnect: stored once.
        await desk.send_json_to({"action": "reply", "session_id": session_id, "text": "Hi Ana <script>", "cid": "a1"})
        again = await receive_until(desk, lambda f: f["type"] == "done" and f["action"] == "reply")
        assert stored["cid"] == again["cid"] == "a1" and stored["message"]["id"] == again["message"]["id"]
        await desk.send_json_to({"action": "reply", "session_id": session_id, "text": " ", "cid": "a2"})
        refused = await receive_until(desk, lambda f: f["type"] == "error")
        assert refused["cid"] == "a2"  # refused: the page stops holding it and shows why
        await guest.send_json_to({"action": "message", "text": "Thanks!", "cid": "v1"})
        ack = await receive_until(guest, lambda f: f["type"] == "ack")
        seen = await receive_until(desk, lambda f: f["type"] == "event" and f["event"].get("type") == "message"
                                   and f["event"]["message"]["from"] == "visitor")
        await guest.disconnect()
        await desk.disconnect()
        return session_id, pushed, ack, seen

    session_id, pushed, ack, seen = async_to_sync(scenario)()
    assert pushed["message"]["from"] == "agent" and pushed["message"]["text"] == "Hi Ana <script>"
    assert ack["cid"] == "v1" and seen["event"]["message"]["text"] == "Thanks!"
    session = ChatSession.objects.get(pk=session_id)
    bodies = list(Message.objects.filter(ticket=session.ticket).order_by("id").values_list("author_kind", "body_text"))
    assert bodies == [("customer", "How do I reset my password?"),
                      ("automation", "These articles may answer your question:"),
                      ("agent", "Hi Ana <script>"), ("customer", "Thanks!")]


def test_reload_resumes_the_conversation_and_a_resent_message_is_stored_once(widget):
    async def scenario():
        guest, hello = await visitor(widget)
        token = hello["token"]
        await guest.send_json_to({"action": "start", "question": "zzqx nothing matches"})
        await receive_until(guest, lambda f: f["type"] == "state" and f["status"] == "queued")
        await guest.send_json_to({"action": "message", "text": "still there?", "cid": "c-1"})
        await receive_until(guest, lambda f: f["type"] == "ack")
        await guest.disconnect()
        again, resumed = await visitor(widget, token)
        await again.send_json_to({"action": "message", "text": "still there?", "cid": "c-1"})  # resent on reconnect
        await receive_until(again, lambda f: f["type"] == "ack")
        await again.disconnect()
        stranger, fresh = await visitor(widget, token[:-2] + "xx")
        await stranger.disconnect()
        return token, resumed, fresh

    token, resumed, fresh = async_to_sync(scenario)()
    assert resumed["token"] == token and resumed["state"]["status"] == "queued"
    assert [m["text"] for m in resumed["messages"]][-1] == "still there?"
    assert fresh["token"] != token and "state" not in fresh  # a forged token opens nothing
    session = ChatSession.objects.get()
    assert session.ticket.messages.filter(body_text="still there?").count() == 1


def test_bad_frames_get_an_error_not_a_crash(widget, settings):
    settings.ATENDE_THROTTLE_RATES = {**settings.ATENDE_THROTTLE_RATES, "chat.message.visitor": "1/min"}

    async def scenario():
        guest = visitor_socket(widget)
        await guest.connect()
        await guest.send_json_to(["not", "an", "object"])
        first = await guest.receive_json_from(timeout=15)
        await guest.send_json_to({"action": "message", "text": "hi"})
        second = await guest.receive_json_from(timeout=15)
        await guest.send_json_to({"action": "hello"})
        await guest.receive_json_from(timeout=15)
        await guest.send_json_to({"action": "start", "question": "x" * 5000})
        third = await guest.receive_json_from(timeout=15)
        await guest.send_json_to({"action": "start", "question": "zzqx"})
        await receive_until(guest, lambda f: f["type"] == "state")
        await guest.send_json_to({"action": "message", "text": "one", "cid": "1"})
        await receive_until(guest, lambda f: f["type"] == "ack")
        await guest.send_json_to({"action": "message", "text": "two", "cid": "2"})
        fourth = await receive_until(guest, lambda f: f["type"] == "error")
        await guest.disconnect()
        return first, second, third, fourth

    first, second, third, fourth = async_to_sync(scenario)()
    assert first["code"] == "bad_request" and second["code"] == "hello_first"
    assert third["code"] == "message_too_long"
    assert fourth["code"] == "throttled" and fourth["retry_after"] >= 1


def test_customers_cannot_open_the_agent_socket(customer):
    async def scenario():
        socket = agent_socket(await database_sync_to_async(session_cookie)(customer))
        return await socket.connect()

    assert async_to_sync(scenario)() == (False, 4403)


def console_reply(client, ticket_id: int, text: str):
    """An agent's public reply written on the console's ticket page (not the chat workspace)."""
    from django.urls import reverse

    from atende.tickets.models import Ticket

    ticket = Ticket.objects.get(pk=ticket_id)
    response = client.post(reverse("console:ticket_reply", args=[ticket.number]),
                           {"kind": "reply", "body": text, "expected_version": ticket.version})
    assert response.status_code in (200, 302), response.content[:500]
    return ticket.messages.filter(body_text=text).get()


def test_a_reply_from_the_ticket_page_reaches_the_open_widget_once(widget, agent, client):
    """The reply written on the ticket page is pushed to the visitor's widget (and to the workspace), not emailed;
    a reply written in the workspace is pushed once, not a second time by the ticket-page path."""
    from asgiref.sync import sync_to_async

    from atende.outbound.models import Delivery

    agent.availability = Availability.ONLINE
    agent.save()
    cookie = session_cookie(agent)
    client.force_login(agent)

    async def scenario():
        desk = agent_socket(cookie)
        assert (await desk.connect())[0]
        guest, _hello = await visitor(widget)
        await guest.send_json_to({"action": "start", "question": "zzqx nothing matches", "email": "vi@example.com"})
        await receive_until(guest, lambda f: f["type"] == "state" and f["status"] == "queued")
        session = await database_sync_to_async(ChatSession.objects.get)()
        await desk.send_json_to({"action": "open", "session_id": session.pk})
        await receive_until(desk, lambda f: f["type"] == "conversation")
        await desk.send_json_to({"action": "accept", "session_id": session.pk})
        await receive_until(guest, lambda f: f["type"] == "state" and f["status"] == "active")
        await desk.send_json_to({"action": "reply", "session_id": session.pk, "text": "From the workspace",
                                 "cid": "w1"})
        first = await receive_until(guest, lambda f: f["type"] == "message")
        message = await sync_to_async(console_reply)(client, session.ticket_id, "From the ticket page")
        frames = [first]
        while frames[-1]["message"]["text"] != "From the ticket page":
            frames.append(await receive_until(guest, lambda f: f["type"] == "message"))
        seen = await receive_until(desk, lambda f: f["type"] == "event" and f["event"].get("type") == "message"
                                   and f["event"]["message"]["text"] == "From the ticket page")
        await guest.disconnect()
        await desk.disconnect()
        return message, frames, seen

    message, frames, seen = async_to_sync(scenario)()
    assert [(f["message"]["from"], f["message"]["text"]) for f in frames] == [
        ("agent", "From the workspace"), ("agent", "From the ticket page")]
    assert frames[-1]["message"]["id"] == f"m{message.pk}" and seen["event"]["message"]["from"] == "agent"
    message.refresh_from_db()
    assert message.channel == "chat"
    assert not Delivery.objects.filter(transport="mail", kind="agent_reply").exists()


def test_after_the_visitor_left_a_ticket_page_reply_waits_and_the_widget_shows_it_on_return(widget, agent, client):
    """No email known: the reply stays on the ticket; the visitor's widget shows it when they come back."""
    from asgiref.sync import sync_to_async

    from atende.outbound.models import Delivery

    client.force_login(agent)

    async def scenario():
        guest, hello = await visitor(widget)
        await guest.send_json_to({"action": "start", "question": "zzqx nothing matches"})
        await receive_until(guest, lambda f: f["type"] == "state" and f["status"] == "queued")
        await guest.send_json_to({"action": "end"})
        await receive_until(guest, lambda f: f["type"] == "state" and f["status"] == "ended")
        await guest.disconnect()
        session = await database_sync_to_async(ChatSession.objects.get)()
        await sync_to_async(console_reply)(client, session.ticket_id, "Answer while you were away")
        again, resumed = await visitor(widget, hello["token"])
        await again.disconnect()
        return resumed

    resumed = async_to_sync(scenario)()
    assert resumed["messages"][-1]["text"] == "Answer while you were away"
    assert resumed["messages"][-1]["from"] == "agent"
    assert not Delivery.objects.filter(transport="mail").exists()


def test_frames_and_pushes_reach_the_chat_sockets_without_a_hop_to_the_shared_thread_each(widget, agent, article,
                                                                                           monkeypatch):
    """Channels checked the database connections before every frame and every push, each check a hand-over to
    the one thread sync code shares: most of the web process's event loop at a thousand chats. The consumers'
    database calls check their own thread's connections; the conversation works the same without the hop."""
    import channels.consumer

    hops = []

    async def counted():
        hops.append(1)

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counted)
    agent.availability = Availability.ONLINE
    agent.save()
    cookie = session_cookie(agent)

    async def scenario():
        desk = agent_socket(cookie)
        assert (await desk.connect())[0]
        await receive_until(desk, lambda f: f["type"] == "list")
        guest, _ = await visitor(widget)
        await guest.send_json_to({"action": "start", "question": "How do I reset my password?", "name": "Bea"})
        await receive_until(guest, lambda f: f["type"] == "history")
        await guest.send_json_to({"action": "human"})
        listing = await receive_until(desk, lambda f: f["type"] == "list" and f["waiting"])
        session_id = listing["waiting"][0]["id"]
        await desk.send_json_to({"action": "open", "session_id": session_id})
        await receive_until(desk, lambda f: f["type"] == "conversation")
        await desk.send_json_to({"action": "accept", "session_id": session_id})
        await receive_until(guest, lambda f: f["type"] == "state" and f["status"] == "active")
        await desk.send_json_to({"action": "reply", "session_id": session_id, "text": "Looking", "cid": "a1"})
        pushed = await receive_until(guest, lambda f: f["type"] == "message")
        await guest.send_json_to({"action": "message", "text": "Thanks", "cid": "v1"})
        seen = await receive_until(desk, lambda f: f["type"] == "event" and f["event"].get("type") == "message"
                                   and f["event"]["message"]["from"] == "visitor")
        await guest.disconnect()
        await desk.disconnect()
        return pushed, seen

    pushed, seen = async_to_sync(scenario)()
    assert pushed["message"]["text"] == "Looking" and seen["event"]["message"]["text"] == "Thanks"
    assert hops == []
