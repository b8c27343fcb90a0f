"""No N+1: the ticket page and the lists make the same number of queries for a short and a long thread, a short
and a long list (each message, attachment, author or row must not cost its own query)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.accounts.tests.factories import AgentFactory, CustomerFactory
from atende.core.actor import Actor
from atende.tickets.services import message_add_note, message_add_reply
from atende.tickets.tests.factories import make_ticket


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def _thread(team, agent, customer, messages):
    ticket = make_ticket(requester=customer, actor=Actor.for_user(agent), team=team)
    for i in range(messages):
        author = AgentFactory() if i % 3 == 0 else agent  # many distinct authors: no query per author
        team.members.add(author)
        if i % 2:
            message_add_note(ticket=ticket, actor=Actor.for_user(author), body_text=f"note {i}")
        else:
            message_add_reply(ticket=ticket, actor=Actor.for_user(author), body_text=f"reply {i}")
    return ticket


@pytest.mark.django_db
def test_ticket_page_queries_do_not_grow_with_the_thread(client, team, agent, customer):
    short, long = _thread(team, agent, customer, 3), _thread(team, agent, customer, 12)
    client.force_login(agent)
    _queries(client, f"/console/tickets/{short.number}/")  # warm caches (custom fields, branding)
    assert _queries(client, f"/console/tickets/{long.number}/") == _queries(client, f"/console/tickets/{short.number}/")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/console/?view=all_open", "/console/?view=unassigned", "/console/search/?q=printer"])
def test_list_queries_do_not_grow_with_the_rows(client, team, agent, url):
    client.force_login(agent)
    customers = [CustomerFactory() for _ in range(3)]
    for i in range(3):
        make_ticket(requester=customers[i], actor=Actor.for_user(agent), team=team)
    _queries(client, url)
    few = _queries(client, url)
    for _ in range(12):
        make_ticket(requester=CustomerFactory(), actor=Actor.for_user(agent), team=team)
    assert _queries(client, url) == few
