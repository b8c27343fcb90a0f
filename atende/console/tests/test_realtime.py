"""The console websocket on the real ASGI application: authentication, change notices, presence, visibility."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from atende.accounts.tests.factories import AgentFactory, CollaboratorFactory, TeamFactory
from atende.console import realtime
from atende.console.tests.realtime_helpers import connected, console_socket, receive_until, session_cookie
from atende.core.actor import Actor
from atende.core.testing.redis import redis_url_or_skip, unique_prefix
from atende.tickets.services import message_add_note, message_add_reply, ticket_assign, ticket_update

pytestmark = pytest.mark.django_db(transaction=True)


def is_change(frame):
    return frame["type"] == "ticket.changed"


def test_anonymous_and_customers_are_refused(customer):
    async def scenario():
        for cookie in (None, await database_sync_to_async(session_cookie)(customer)):
            socket = console_socket(cookie)
            ok, code = await socket.connect()
            assert not ok
            assert code == 4403
            await socket.disconnect()

    async_to_sync(scenario)()


def test_watcher_gets_each_change_once_with_the_new_version(agent, other_agent, team_ticket):
    cookie = session_cookie(agent)

    async def scenario():
        socket = await connected(cookie)
        await socket.send_json_to({"action": "watch", "ticket_id": team_ticket.pk})
        await receive_until(socket, lambda f: f["type"] == "presence")
        await database_sync_to_async(message_add_reply)(
            ticket=team_ticket, actor=Actor.for_user(other_agent), body_text="On it.", set_status="pending")
        frames = [await receive_until(socket, is_change) for _ in range(2)]
        await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()
        return frames

    reply, pending = async_to_sync(scenario)()
    assert reply["event_type"] == "REPLY_ADDED"
    assert reply["number"] == team_ticket.number
    assert reply["actor_user_id"] == other_agent.pk
    assert pending["event_type"] == "STATUS_CHANGED"
    assert pending["status"] == "pending"
    team_ticket.refresh_from_db()
    assert pending["version"] == team_ticket.version
    assert "body" not in reply and "data" not in reply  # notices never carry message text


def test_queue_listeners_hear_about_tickets_they_are_not_viewing(agent, other_agent, team_ticket):
    cookie = session_cookie(agent)

    async def scenario():
        socket = await connected(cookie)
        await database_sync_to_async(ticket_update)(
            ticket=team_ticket, actor=Actor.for_user(other_agent), changes={"priority": "urgent"})
        frame = await receive_until(socket, is_change)
        await socket.disconnect()
        return frame

    frame = async_to_sync(scenario)()
    assert frame["event_type"] == "PRIORITY_CHANGED"
    assert frame["ticket_id"] == team_ticket.pk
    assert frame["team_id"] == team_ticket.team_id


def test_changes_committed_together_reach_watchers_and_queues_once_each_in_order(agent, other_agent, team_ticket):
    from django.db import transaction

    from atende.core.events import pushes_together

    def two_changes_in_one_commit():
        with pushes_together(), transaction.atomic():
            ticket_update(ticket=team_ticket, actor=Actor.for_user(other_agent), changes={"priority": "urgent"})
            message_add_note(ticket=team_ticket, actor=Actor.for_user(other_agent), body_text="Escalated.")

    cookies = session_cookie(agent), session_cookie(other_agent)

    async def scenario():
        watcher = await connected(cookies[0])
        await watcher.send_json_to({"action": "watch", "ticket_id": team_ticket.pk})
        await receive_until(watcher, lambda f: f["type"] == "presence")
        listener = await connected(cookies[1])
        await database_sync_to_async(two_changes_in_one_commit)()
        frames = {}
        for name, socket in (("watcher", watcher), ("listener", listener)):
            frames[name] = [await receive_until(socket, is_change) for _ in range(2)]
            await socket.receive_nothing(timeout=0.3)
            await socket.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    for name in ("watcher", "listener"):
        assert [f["event_type"] for f in frames[name]] == ["PRIORITY_CHANGED", "NOTE_ADDED"], name
        assert frames[name][0]["version"] < frames[name][1]["version"]


def test_collision_detection_shows_viewers_and_typing(agent, other_agent, team_ticket):
    first, second = session_cookie(agent), session_cookie(other_agent)

    async def scenario():
        a, b = await connected(first), await connected(second)
        await a.send_json_to({"action": "watch", "ticket_id": team_ticket.pk})
        await receive_until(a, lambda f: f["type"] == "presence")
        await b.send_json_to({"action": "watch", "ticket_id": team_ticket.pk})
        both = await receive_until(a, lambda f: f["type"] == "presence" and len(f["viewers"]) == 2)
        await b.send_json_to({"action": "typing", "ticket_id": team_ticket.pk, "typing": True})
        typing = await receive_until(a, lambda f: f["type"] == "presence" and any(v["typing"] for v in f["viewers"]))
        await b.disconnect()
        alone = await receive_until(a, lambda f: f["type"] == "presence" and len(f["viewers"]) == 1)
        await a.disconnect()
        return both, typing, alone

    both, typing, alone = async_to_sync(scenario)()
    assert {v["user_id"] for v in both["viewers"]} == {agent.pk, other_agent.pk}
    assert [v["user_id"] for v in typing["viewers"] if v["typing"]] == [other_agent.pk]
    assert [v["user_id"] for v in alone["viewers"]] == [agent.pk]
    assert realtime.presence_list(ticket_id=team_ticket.pk) == []  # both tabs said goodbye


def test_presence_expires_without_heartbeat(agent, team_ticket, monkeypatch):
    import time

    realtime.presence_touch(ticket_id=team_ticket.pk, channel_name="c1", user_id=agent.pk, name="A", typing=True)
    assert realtime.presence_list(ticket_id=team_ticket.pk)[0]["typing"] is True
    later = time.time() + realtime.PRESENCE_TTL_SECONDS + 1
    monkeypatch.setattr(realtime.time, "time", lambda: later)
    assert realtime.presence_list(ticket_id=team_ticket.pk) == []


def test_restricted_agents_cannot_watch_or_hear_other_teams_tickets(customer, agent, team_ticket):
    other_team = TeamFactory()
    outsider = CollaboratorFactory()
    outsider.teams.add(other_team)
    cookie = session_cookie(outsider)

    async def scenario():
        socket = await connected(cookie)
        await socket.send_json_to({"action": "watch", "ticket_id": team_ticket.pk})
        refused = await socket.receive_json_from(timeout=3)
        await database_sync_to_async(message_add_note)(ticket=team_ticket, actor=Actor.for_user(agent),
                                                       body_text="internal")
        await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()
        return refused

    refused = async_to_sync(scenario)()
    assert refused == {"type": "error", "code": "not_found", "ticket_id": team_ticket.pk}
    assert realtime.presence_list(ticket_id=team_ticket.pk) == []


def test_push_ticket_events_reaches_both_groups():
    layer = get_channel_layer()

    async def scenario():
        ticket_channel = await layer.new_channel()
        queue_channel = await layer.new_channel()
        await layer.group_add("ticket.42", ticket_channel)
        await layer.group_add("queues", queue_channel)
        await database_sync_to_async(realtime.push_ticket_events)([{
            "type": "STATUS_CHANGED", "event_id": 9, "ticket_id": 42, "ticket_number": 1042, "ticket_version": 3,
            "status": "solved", "team_id": None, "assignee_id": 5, "actor_user_id": 5, "data": {"old": "open"}}])
        return await layer.receive(ticket_channel), await layer.receive(queue_channel)

    on_ticket, on_queue = async_to_sync(scenario)()
    assert on_ticket["type"] == "ticket.event"
    assert on_queue["type"] == "queue.event"
    assert on_ticket["change"] == on_queue["change"] == {
        "ticket_id": 42, "number": 1042, "version": 3, "event_type": "STATUS_CHANGED", "event_id": 9,
        "status": "solved", "team_id": None, "assignee_id": 5, "actor_user_id": 5}


def test_changes_and_presence_travel_over_redis(settings, agent, other_agent, team_ticket):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "atende.core.redis_layer.WaitingPoolRedisChannelLayer",
                                           "CONFIG": {"hosts": [redis_url_or_skip()],
                                                      "prefix": unique_prefix("realtime")}}}
    first, second = session_cookie(agent), session_cookie(other_agent)

    async def scenario():
        a, b = await connected(first), await connected(second)
        await a.send_json_to({"action": "watch", "ticket_id": team_ticket.pk})
        await b.send_json_to({"action": "watch", "ticket_id": team_ticket.pk})
        presence = await receive_until(a, lambda f: f["type"] == "presence" and len(f["viewers"]) == 2)
        await database_sync_to_async(message_add_note)(ticket=team_ticket, actor=Actor.for_user(other_agent),
                                                       body_text="seen over redis")
        change = await receive_until(a, is_change)
        await a.disconnect()
        await b.disconnect()
        return presence, change

    presence, change = async_to_sync(scenario)()
    assert {v["user_id"] for v in presence["viewers"]} == {agent.pk, other_agent.pk}
    assert change["event_type"] == "NOTE_ADDED"
    assert change["ticket_id"] == team_ticket.pk


def test_queue_changes_reach_each_connection_by_its_visibility(customer, agent, other_agent, team, team_ticket):
    """Several connections in one process share one hub; each hears only the changes its agent may see."""
    other_team = TeamFactory()
    insider = CollaboratorFactory()
    insider.teams.add(team)
    outsider = CollaboratorFactory()
    outsider.teams.add(other_team)
    restricted = AgentFactory(restrict_to_teams=True)
    restricted.teams.add(other_team)
    cookies = {name: session_cookie(user) for name, user in
               {"agent": agent, "insider": insider, "outsider": outsider, "restricted": restricted}.items()}

    async def scenario():
        sockets = {name: await connected(cookie) for name, cookie in cookies.items()}
        heard = {name: [] for name in sockets}

        async def collect(pause: float = 0.5):
            for name, socket in sockets.items():
                while not await socket.receive_nothing(timeout=pause):
                    frame = await socket.receive_json_from()
                    if is_change(frame):
                        heard[name].append((frame["event_type"], frame["assignee_id"]))

        await database_sync_to_async(message_add_note)(ticket=team_ticket, actor=Actor.for_user(other_agent),
                                                       body_text="team only")
        await collect()
        # Assigned to the restricted agent of another team: now that agent hears of it too.
        await database_sync_to_async(ticket_update)(ticket=team_ticket, actor=Actor.for_user(other_agent),
                                                    changes={"assignee": restricted})
        await collect()
        for socket in sockets.values():
            await socket.disconnect()
        return heard

    heard = async_to_sync(scenario)()
    note = ("NOTE_ADDED", None)
    assigned = ("ASSIGNEE_CHANGED", heard["agent"][-1][1])
    assert heard["agent"] == [note, assigned]
    assert heard["insider"] == [note, assigned]
    assert heard["outsider"] == []
    assert heard["restricted"] == [assigned]
    assert assigned[1] is not None


def test_the_bell_nudge_reaches_only_the_notified_agent(agent, other_agent, team, team_ticket):
    team.members.add(agent, other_agent)
    mine, theirs = session_cookie(agent), session_cookie(other_agent)

    async def scenario():
        me, them = await connected(mine), await connected(theirs)
        await database_sync_to_async(ticket_assign)(
            ticket=team_ticket, actor=Actor.for_user(other_agent), team=team, assignee=agent)
        nudge = await receive_until(me, lambda f: f["type"] == "notifications.changed")
        frames = []
        while not await them.receive_nothing(timeout=0.5):
            frames.append((await them.receive_json_from())["type"])
        await me.disconnect()
        await them.disconnect()
        return nudge, frames

    nudge, theirs_frames = async_to_sync(scenario)()
    assert nudge == {"type": "notifications.changed"}
    assert "ticket.changed" in theirs_frames and "notifications.changed" not in theirs_frames

