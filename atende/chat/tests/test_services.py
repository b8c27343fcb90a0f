"""Live chat's services on a real database: the bot step, handover into a ticket, routing, replies, the end."""

from __future__ import annotations

import pytest

from atende.accounts.models import User
from atende.chat import realtime
from atende.chat.choices import ChatOutcome, ChatStatus
from atende.chat.models import ChatAgentSetting, ChatSession
from atende.chat.selectors import queue_position, session_messages
from atende.chat.services import (
    chat_accept,
    chat_agent_end,
    chat_agent_reply,
    chat_bot_solved,
    chat_handover,
    chat_offline_submit,
    chat_rate,
    chat_start,
    chat_transcript_send,
    chat_transfer,
    chat_visitor_end,
    chat_visitor_message,
    chats_reoffer,
)
from atende.chat.tokens import identity_signature, visitor_id_new
from atende.core.exceptions import Conflict, PermissionDenied, ValidationError
from atende.core.throttle import Throttled
from atende.kb.selectors import deflection_count
from atende.outbound.models import Delivery
from atende.tickets.choices import TicketEventType, TicketStatus
from atende.tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


def start(widget, question="How do I reset my password?", **kw):
    kw.setdefault("visitor_id", visitor_id_new())
    return chat_start(widget=widget, question=question, client_ip="10.0.0.1", **kw)


def test_bot_answers_the_first_question_with_matching_articles(widget, article):
    session = start(widget, name="Ana", email="ana@example.com")
    assert session.status == ChatStatus.BOT
    assert session.ticket is None
    turns = session_messages(session)
    assert [t["from"] for t in turns] == ["visitor", "bot"]
    assert turns[1]["articles"][0]["id"] == article.pk
    assert turns[1]["articles"][0]["url"] == article.get_absolute_url()


def test_this_solved_it_ends_without_a_ticket_and_counts_as_deflected(widget, article):
    before = deflection_count()
    session = start(widget)
    session = chat_bot_solved(session=session, article_id=article.pk)
    assert session.status == ChatStatus.ENDED and session.outcome == ChatOutcome.SOLVED_BY_BOT
    assert session.ticket is None
    assert deflection_count() == before + 1
    with pytest.raises(Conflict):
        chat_bot_solved(session=session)


def test_handover_makes_a_chat_ticket_whose_thread_is_the_transcript(widget, article, customer, team,
                                                                     django_capture_on_commit_callbacks):
    session = start(widget, name="Ana", email=customer.email.upper())
    with django_capture_on_commit_callbacks(execute=True):
        session = chat_handover(session=session)
    ticket = session.ticket
    assert session.status == ChatStatus.QUEUED
    assert ticket.channel == "chat" and ticket.requester == customer and ticket.team == team
    messages = list(ticket.messages.order_by("id"))
    assert [m.author_kind for m in messages] == ["customer", "automation"]
    assert messages[1].metadata["chat_articles"][0]["id"] == article.pk
    assert ticket.first_response_at is None  # the bot's answer is not a response for the SLA
    assert TicketEvent.objects.filter(ticket=ticket, type=TicketEventType.REPLY_ADDED).count() == 1
    assert [r["from"] for r in session_messages(session)] == ["visitor", "bot"]


def test_without_articles_or_with_the_bot_off_it_goes_straight_to_the_queue(widget, team):
    session = start(widget, question="zzqx nothing matches this")
    assert session.status == ChatStatus.QUEUED and session.ticket is not None
    widget.bot_enabled = False
    widget.save()
    session = start(widget, question="Reset password")
    assert session.status == ChatStatus.QUEUED
    assert [r["from"] for r in session_messages(session)] == ["visitor"]


def test_visitor_without_email_becomes_a_customer_known_by_a_chat_identity(widget):
    session = chat_handover(session=start(widget, question="zzqx", name="Dora"))
    customer = session.customer
    assert customer.is_customer and customer.email is None and customer.name == "Dora"
    assert [(i.kind, i.value) for i in customer.identities.all()] == [("chat", session.visitor_id)]
    assert session.ticket.requester == customer


def test_visitor_with_an_email_is_matched_to_the_existing_customer(widget, customer):
    before = User.objects.count()
    session = chat_handover(session=start(widget, question="zzqx", email=customer.email.upper()))
    assert session.customer == customer and User.objects.count() == before
    assert not customer.identities.filter(kind="chat").exists()


def test_identify_signature_trusts_the_email_and_a_wrong_one_is_ignored(widget, article):
    good = {"email": "bo@example.com", "name": "Bo",
            "signature": identity_signature(secret=widget.secret, email="bo@example.com")}
    session = start(widget, identity=good)
    assert session.identified and session.email == "bo@example.com" and session.name == "Bo"
    forged = {"email": "boss@example.com", "signature": identity_signature(secret="guess", email="boss@example.com")}
    session = start(widget, identity=forged)
    assert not session.identified and session.email == ""


def test_messages_are_delivered_once_per_client_id_and_sanitised(widget, agent, online):
    session = chat_handover(session=start(widget, question="zzqx"))
    first = chat_visitor_message(session=session, text="hello\u202e\x00 <b>there</b>", client_id="c1")
    again = chat_visitor_message(session=session, text="hello <b>there</b>", client_id="c1")
    assert first["id"] == again["id"]
    assert first["text"] == "hello <b>there</b>"  # stored as plain text: every view escapes it
    assert session.ticket.messages.filter(external_id__startswith="chat:").count() == 1


@pytest.mark.parametrize("text,code", [("", "message_empty"), ("   \n", "message_empty"), (None, "message_empty"),
                                       (123, "invalid_text"), ({"a": 1}, "invalid_text"),
                                       ("x" * 4001, "message_too_long")])
def test_bad_messages_are_refused_with_a_reason(widget, text, code):
    session = chat_handover(session=start(widget, question="zzqx"))
    with pytest.raises(ValidationError) as error:
        chat_visitor_message(session=session, text=text, client_id="x")
    assert error.value.code == code


def test_messages_are_rate_limited_per_visitor(widget, settings):
    settings.ATENDE_THROTTLE_RATES = {**settings.ATENDE_THROTTLE_RATES, "chat.message.visitor": "3/min"}
    session = chat_handover(session=start(widget, question="zzqx"))
    for n in range(3):
        chat_visitor_message(session=session, text=f"m{n}", client_id=f"c{n}")
    with pytest.raises(Throttled) as refused:
        chat_visitor_message(session=session, text="m4", client_id="c4")
    assert refused.value.retry_after >= 1


def test_a_message_is_counted_against_the_limits_without_a_database_write(widget, agent, online,
                                                                           django_assert_max_num_queries):
    """A chat message holds the database's write lock from its first statement: the rate limits are counted in
    the web process's cache, not in rows written inside that transaction (two limits cost seven statements)."""
    from atende.core.models import ThrottleBucket

    online(agent)
    session = chat_accept(session=chat_handover(session=start(widget, question="zzqx")), agent=agent)
    chat_agent_reply(session=session, agent=agent, text="hello", client_id="a0")  # the first response: more
    chat_visitor_message(session=session.pk, text="first", client_id="c0")
    # lock, ticket lock, resend check, savepoint, message, ticket, event, index, release (the ticket is read once)
    with django_assert_max_num_queries(11):
        chat_visitor_message(session=session.pk, text="second", client_id="c1")
    with django_assert_max_num_queries(11):
        chat_agent_reply(session=session, agent=agent, text="answer", client_id="a1")
    assert not ThrottleBucket.objects.filter(scope__startswith="chat.message").exists()
    assert list(session.ticket.messages.order_by("id").values_list("body_text", flat=True))[-3:] == [
        "first", "second", "answer"]


def test_session_starts_are_rate_limited_per_ip(widget, settings):
    settings.ATENDE_THROTTLE_RATES = {**settings.ATENDE_THROTTLE_RATES, "chat.start.ip": "2/10m"}
    start(widget, question="zzqx")
    start(widget, question="zzqx")
    with pytest.raises(Throttled):
        start(widget, question="zzqx")
    assert ChatSession.objects.count() == 2


def test_routing_offers_the_least_loaded_online_connected_agent_of_the_team(widget, agent, other_agent, online):
    online(agent, other_agent)
    busy = chat_handover(session=start(widget, question="zzqx"))
    chat_accept(session=busy, agent=agent)
    session = chat_handover(session=start(widget, question="zzqx"))
    assert session.offered_to == other_agent  # agent already holds one chat


def test_routing_skips_offline_disconnected_and_full_agents(widget, agent, other_agent, online):
    online(agent)  # other_agent: offline
    ChatAgentSetting.objects.create(agent=agent, max_chats=1)
    first = chat_handover(session=start(widget, question="zzqx"))
    assert first.offered_to == agent
    chat_accept(session=first, agent=agent)
    second = chat_handover(session=start(widget, question="zzqx"))
    assert second.offered_to is None and queue_position(second) == 1
    third = chat_handover(session=start(widget, question="zzqx"))
    assert queue_position(third) == 2
    with pytest.raises(Conflict) as full:
        chat_accept(session=second, agent=agent)
    assert full.value.code == "chat_capacity_reached"


def test_unaccepted_offers_move_on(widget, agent, other_agent, online, settings):
    online(agent, other_agent)
    session = chat_handover(session=start(widget, question="zzqx"))
    first = session.offered_to
    settings.CHAT_OFFER_SECONDS = 0
    assert chats_reoffer() == 1
    session.refresh_from_db()
    assert session.offered_to not in (None, first)


def test_accept_reply_and_end_solve_the_ticket_and_allow_a_rating(widget, agent, customer, online):
    online(agent)
    session = chat_handover(session=start(widget, question="zzqx", email=customer.email))
    session = chat_accept(session=session, agent=agent)
    session.ticket.refresh_from_db()
    assert session.ticket.assignee == agent and session.status == ChatStatus.ACTIVE
    chat_visitor_message(session=session, text="Are you there?", client_id="v1")
    row = chat_agent_reply(session=session, agent=agent, text="Yes, how can I help?", client_id="a1")
    assert row["from"] == "agent"
    session.ticket.refresh_from_db()
    assert session.ticket.first_response_at is not None
    chat_agent_end(session=session, agent=agent)
    session.refresh_from_db()
    session.ticket.refresh_from_db()
    assert session.status == ChatStatus.ENDED and session.ticket.status == TicketStatus.SOLVED
    survey = chat_rate(session=session, rating="good", comment="Quick!")
    assert survey.rating == "good"
    rows = session_messages(session)
    assert [r["from"] for r in rows] == ["visitor", "bot", "visitor", "agent"]
    assert [r["text"] for r in rows][2:] == ["Are you there?", "Yes, how can I help?"]


def test_only_the_holder_replies_and_other_teams_cannot_accept(widget, agent, other_agent, online):
    from atende.accounts.tests.factories import AgentFactory

    online(agent)
    session = chat_accept(session=chat_handover(session=start(widget, question="zzqx")), agent=agent)
    with pytest.raises(Conflict):
        chat_agent_reply(session=session, agent=other_agent, text="hi")
    outsider = AgentFactory()
    waiting = chat_handover(session=start(widget, question="zzqx"))
    with pytest.raises(PermissionDenied):
        chat_accept(session=waiting, agent=outsider)


def test_transfer_to_an_agent_or_back_to_a_team_queue(widget, agent, other_agent, online):
    from atende.accounts.tests.factories import TeamFactory

    online(agent, other_agent)
    session = chat_accept(session=chat_handover(session=start(widget, question="zzqx")), agent=agent)
    session = chat_transfer(session=session, agent=agent, to_agent=other_agent)
    session.ticket.refresh_from_db()
    assert session.agent == other_agent and session.ticket.assignee == other_agent
    billing = TeamFactory()
    session = chat_transfer(session=session, agent=other_agent, to_team=billing)
    session.ticket.refresh_from_db()
    assert session.status == ChatStatus.QUEUED and session.team == billing and session.ticket.team == billing


def test_transcript_goes_only_to_the_conversation_email_once(widget, agent, online):
    online(agent)
    session = chat_handover(session=start(widget, question="zzqx", email="vi@example.com"))
    chat_visitor_message(session=session, text="second line", client_id="v")
    assert chat_transcript_send(session=session) is not None
    assert chat_transcript_send(session=session) is None
    anonymous = chat_handover(session=start(widget, question="zzqx"))
    with pytest.raises(ValidationError):
        chat_transcript_send(session=anonymous)


def test_offline_form_creates_a_ticket_and_refuses_the_honeypot(widget, team):
    with pytest.raises(ValidationError):
        chat_offline_submit(widget=widget, visitor_id=visitor_id_new(), name="Bot", email="b@example.com",
                            question="Buy now", honeypot="http://spam")
    with pytest.raises(ValidationError) as missing:
        chat_offline_submit(widget=widget, visitor_id=visitor_id_new(), name="Ana", email="", question="Help")
    assert missing.value.code == "email_required"
    session = chat_offline_submit(widget=widget, visitor_id=visitor_id_new(), name="Ana", email="ana@example.com",
                                  question="My order is late")
    assert session.outcome == ChatOutcome.OFFLINE_FORM
    assert session.ticket.channel == "chat" and session.ticket.team == team
    assert session.ticket.requester.email == "ana@example.com"


def test_a_reply_to_a_visitor_who_left_goes_by_email_when_the_address_is_known(widget, agent, online,
                                                                               django_capture_on_commit_callbacks):
    online(agent)
    session = chat_accept(session=chat_handover(session=start(widget, question="zzqx", email="gone@example.com")),
                          agent=agent)
    realtime.presence_touch("visitor", session.pk, "visitor-tab")
    here = chat_agent_reply(session=session, agent=agent, text="Still with me?", client_id="a1")
    realtime.presence_leave("visitor", session.pk, "visitor-tab")
    with django_capture_on_commit_callbacks(execute=True):
        away = chat_agent_reply(session=session, agent=agent, text="I found the cause: fixed now.", client_id="a2")
    channels = dict(session.ticket.messages.filter(external_id__in=[f"chat:{session.pk}:a:a1",
                                                                   f"chat:{session.pk}:a:a2"])
                    .values_list("body_text", "channel"))
    assert channels == {"Still with me?": "chat", "I found the cause: fixed now.": "email"}
    assert here["text"] == "Still with me?" and away["text"].startswith("I found")
    mailed = [row.payload["body_text"] for row in Delivery.objects.filter(transport="mail")
              if "gone@example.com" in row.payload["to"]]
    assert any("I found the cause" in body for body in mailed)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_agents_accepting_the_same_chat_at_once_one_wins(widget, agent, other_agent, online):
    import threading

    from django.db import connection

    online(agent, other_agent)
    session = chat_handover(session=start(widget, question="zzqx"))
    barrier, results = threading.Barrier(2), {}

    def accept(who):
        try:
            barrier.wait()
            chat_accept(session=session, agent=who)
            results[who.pk] = "accepted"
        except Conflict as exc:
            results[who.pk] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(a,)) for a in (agent, other_agent)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == ["accepted", "chat_not_waiting"]
    session.refresh_from_db()
    assert results[session.agent_id] == "accepted"


def test_a_ticket_page_reply_after_the_chat_ended_goes_by_email_once(widget, agent, team,
                                                                   django_capture_on_commit_callbacks):
    """The visitor gave an email and is gone: the reply from the ticket page is emailed (the usual reply
    notification), once even when the chat subscriber sees the event twice."""
    from atende.chat.services.relay import chat_ticket_reply_relay
    from atende.core.actor import Actor
    from atende.tickets.services import message_add_reply

    session = chat_handover(session=start(widget, question="zzqx", email="vi@example.com", name="Vi"))
    chat_visitor_end(session=session)
    with django_capture_on_commit_callbacks(execute=True):
        message = message_add_reply(ticket=session.ticket, actor=Actor.for_user(agent), body_text="By email")
    [mail] = Delivery.objects.filter(transport="mail", kind="agent_reply")
    assert mail.payload["to"] == ["vi@example.com"] and "By email" in mail.payload["body_text"]
    message.refresh_from_db()
    assert message.channel == "email"
    event = TicketEvent.objects.get(type=TicketEventType.REPLY_ADDED, data__message_id=message.pk)
    payload = {"type": event.type, "event_id": event.pk, "ticket_id": event.ticket_id, "data": event.data,
               "actor_user_id": agent.pk}
    assert chat_ticket_reply_relay(event=payload) == "emailed"
    assert Delivery.objects.filter(transport="mail", kind="agent_reply").count() == 1


def test_offline_form_tickets_are_answered_by_email_from_the_ticket_page(widget, agent,
                                                                         django_capture_on_commit_callbacks):
    from atende.core.actor import Actor
    from atende.tickets.services import message_add_reply

    session = chat_offline_submit(widget=widget, visitor_id=visitor_id_new(), name="Ana", email="ana@example.com",
                                  question="Where is my order?", client_ip="10.0.0.9")
    with django_capture_on_commit_callbacks(execute=True):
        message_add_reply(ticket=session.ticket, actor=Actor.for_user(agent), body_text="On its way")
    assert [d.payload["to"] for d in Delivery.objects.filter(transport="mail", kind="agent_reply")] == [
        ["ana@example.com"]]


def test_replies_from_before_the_relay_existed_are_not_mailed_again(widget, agent, django_capture_on_commit_callbacks):
    """On an existing desk the chat subscriber's new cursor starts at the oldest event: old replies stay history."""
    import datetime as dt

    from django.utils import timezone

    from atende.core.actor import Actor
    from atende.tickets.services import message_add_reply

    session = chat_offline_submit(widget=widget, visitor_id=visitor_id_new(), name="Ana", email="ana@example.com",
                                  question="Where is my order?", client_ip="10.0.0.9")
    with django_capture_on_commit_callbacks(execute=True):
        message_add_reply(ticket=session.ticket, actor=Actor.for_user(agent), body_text="Last month",
                          created_at=timezone.now() - dt.timedelta(days=30))
    assert not Delivery.objects.filter(transport="mail", kind="agent_reply").exists()


def test_a_ticket_page_reply_to_an_open_chat_whose_visitor_closed_the_tab_is_emailed(
        widget, agent, django_capture_on_commit_callbacks):
    """As for a workspace reply: the visitor is not connected, their email is known, so the reply goes by email."""
    from atende.core.actor import Actor
    from atende.tickets.services import message_add_reply

    session = chat_handover(session=start(widget, question="zzqx", email="vi@example.com"))
    chat_accept(session=session, agent=agent)
    with django_capture_on_commit_callbacks(execute=True):
        message_add_reply(ticket=session.ticket, actor=Actor.for_user(agent), body_text="Still there?")
    assert [d.payload["to"] for d in Delivery.objects.filter(transport="mail", kind="agent_reply")] == [
        ["vi@example.com"]]
    realtime.presence_touch("visitor", session.pk, "tab-1")  # back in the widget: pushed, not mailed
    with django_capture_on_commit_callbacks(execute=True):
        message_add_reply(ticket=session.ticket, actor=Actor.for_user(agent), body_text="Welcome back")
    assert Delivery.objects.filter(transport="mail", kind="agent_reply").count() == 1


def test_an_offline_request_tells_the_visitor_when_to_expect_the_answer(widget, team):
    from atende.chat.services._common import session_state
    from atende.sla.services.definitions import policy_save

    policy_save(name="Chat", conditions={}, first_reply_minutes=120, business_hours=True)
    session = chat_offline_submit(widget=widget, visitor_id=visitor_id_new(), name="Ana", email="ana@example.com",
                                  question="My order is late", language="pt-br")
    assert session_state(session)["expected_reply"] == "Costumamos responder em até 2 horas úteis."
    live = start(widget, question="Where is my order?")
    assert session_state(live)["expected_reply"] == ""  # a live chat is answered in the chat
