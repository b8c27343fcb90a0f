"""What a warm ticket page and list page cost, counted (not timed): which queries are built by the ORM on each
request, which tables are read, and a bound on the Python function calls of the ticket page."""

import cProfile
import pstats

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.accounts.models import User
from atende.core.actor import Actor
from atende.core.testing.compiled import count_compiled
from atende.messaging.models import ConversationMessage
from atende.tickets.models import Attachment, Message, Ticket, TicketEvent
from atende.tickets.services import message_add_note, message_add_reply
from atende.tickets.tests.factories import CustomFieldFactory

# The 30-message page of this desk cost 63,800 calls before the panel, the reply box, the ticket's query and the
# timeline were written or read without building them on each request, the frame's fixed parts kept and the labels
# looked up; 30,700 after. 21,700 once the timeline's entries, its times, the console's URLs and static fragments
# were written without the template engine's work per node; the whole thread (``?all=1``) went 35,900 → 15,800.
# 17,700 (the thread 13,900) once the session, the user and the reply box's route were read by prepared SQL and the
# header's availability switch and the macro menu written from parts kept per language.
TICKET_PAGE_CALLS = 19_000
WHOLE_THREAD_CALLS = 15_000


@pytest.fixture
def thread(team_ticket, agent, customer):
    CustomFieldFactory(key="plan", label="Plan", kind="dropdown", choices=["free", "pro"])
    CustomFieldFactory(key="order", label="Order", kind="text")
    for i in range(30):
        if i % 2:
            message_add_note(ticket=team_ticket, actor=Actor.for_user(agent), body_text=f"note {i}")
        else:
            message_add_reply(ticket=team_ticket, actor=Actor.for_user(customer), body_text=f"reply {i}")
    return team_ticket


def _warm(client, url):
    for _ in range(2):
        assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_a_warm_ticket_page_builds_no_query_for_the_ticket_or_its_timeline(client, agent, thread, monkeypatch):
    client.force_login(agent)
    url = f"/console/tickets/{thread.number}/"
    _warm(client, url)
    built = count_compiled(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    assert "reply 28" in page and 'id="panel_cf_plan"' in page
    # nor for the reply box's route (the customer's last reply) or the session and user behind the request
    assert not {Ticket, Attachment, TicketEvent, Message, Session, User} & set(built), built
    # the thread: still read, in one statement
    assert len([q for q in queries.captured_queries if 'FROM "tickets_message"' in q["sql"]]) == 2


@pytest.mark.django_db
def test_a_warm_messaging_ticket_page_builds_no_query_for_its_delivery_states_or_route(client, agent, thread,
                                                                                      monkeypatch):
    Ticket.objects.filter(pk=thread.pk).update(channel="messaging")
    client.force_login(agent)
    url = f"/console/tickets/{thread.number}/"
    _warm(client, url)
    built = count_compiled(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert not {ConversationMessage, Message} & set(built), built
    assert [q for q in queries.captured_queries if 'FROM "messaging_conversationmessage"' in q["sql"]]


def _profiled_get(client, url) -> tuple[str, int]:
    """The page and the Python function calls its request made."""
    profile = cProfile.Profile()
    profile.enable()
    page = client.get(url).content.decode()
    profile.disable()
    return page, pstats.Stats(profile).total_calls

@pytest.mark.django_db
def test_the_ticket_page_stays_under_its_function_calls(client, agent, thread):
    client.force_login(agent)
    url = f"/console/tickets/{thread.number}/"
    _warm(client, url)
    _page, calls = _profiled_get(client, url)
    assert calls < TICKET_PAGE_CALLS, calls


@pytest.mark.django_db
def test_the_whole_thread_stays_under_its_function_calls(client, agent, thread):
    client.force_login(agent)
    url = f"/console/tickets/{thread.number}/timeline/?all=1"
    _warm(client, url)
    page, calls = _profiled_get(client, url)
    assert page.count('<li class="message ') >= 30  # the thread and the ticket's first message
    assert calls < WHOLE_THREAD_CALLS, calls


@pytest.mark.django_db
def test_a_warm_list_page_reads_no_agents_or_teams_for_its_bulk_bar(client, agent, thread):
    client.force_login(agent)
    url = "/console/?view=all_open"
    _warm(client, url)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    assert f'<option value="{agent.pk}">' in page  # the bulk bar's assignees
    assert not [q["sql"] for q in queries.captured_queries if 'FROM "accounts_team"' in q["sql"]]
