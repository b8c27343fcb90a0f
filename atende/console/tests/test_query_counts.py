"""No N+1: the ticket page and the lists make the same number of queries for a short and a long thread, a short
and a long list (each message, attachment, author or row must not cost its own query)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from atende.accounts.tests.factories import AgentFactory, CustomerFactory
from atende.core.actor import Actor
from atende.tickets.services import message_add_note, message_add_reply, ticket_update
from atende.tickets.tests.factories import make_ticket


def _queries(client, url) -> int:
    return len(_statements(client, url))


def _statements(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


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
def test_read_only_panel_shows_a_subcategory_with_its_parent_without_a_query_of_its_own(client, team, agent, customer):
    """The read-only panel (collaborators; closed tickets) names the category as "Parent › Child"; the parent
    is read with the ticket."""
    from atende.accounts.tests.factories import CollaboratorFactory
    from atende.tickets.tests.factories import CategoryFactory

    parent = CategoryFactory(name="Hardware")
    top = make_ticket(requester=customer, actor=Actor.for_user(agent), team=team, category=parent)
    sub = make_ticket(requester=customer, actor=Actor.for_user(agent), team=team,
                      category=CategoryFactory(name="Printers", parent=parent))
    viewer = CollaboratorFactory()
    team.members.add(viewer)
    client.force_login(viewer)
    _queries(client, f"/console/tickets/{top.number}/")  # warm caches
    assert "Hardware › Printers" in client.get(f"/console/tickets/{sub.number}/").content.decode()
    assert _queries(client, f"/console/tickets/{sub.number}/") == _queries(client, f"/console/tickets/{top.number}/")


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


def _busy_customer_ticket(team, agent, customer, *, messages, changes, other_tickets):
    """A ticket whose thread, history and requester's other tickets have the given sizes."""
    ticket = _thread(team, agent, customer, messages)
    for i in range(changes):
        ticket.refresh_from_db()
        ticket_update(ticket=ticket, actor=Actor.for_user(agent),
                      changes={"priority": ["low", "high"][i % 2], "tags": [f"tag{i}"]})
    for _ in range(other_tickets):
        make_ticket(requester=customer, actor=Actor.for_user(agent), team=team)
    return ticket


@pytest.mark.django_db
def test_ticket_page_queries_do_not_grow_with_events_replies_or_the_customers_tickets(client, team, agent):
    small = _busy_customer_ticket(team, agent, CustomerFactory(), messages=2, changes=1, other_tickets=0)
    big = _busy_customer_ticket(team, agent, CustomerFactory(), messages=30, changes=15, other_tickets=12)
    client.force_login(agent)
    for name in ("ticket", "ticket_timeline", "ticket_panel", "ticket_related"):
        small_url = reverse(f"console:{name}", kwargs={"number": small.number})
        big_url = reverse(f"console:{name}", kwargs={"number": big.number})
        _queries(client, small_url)  # warm caches (custom fields, branding)
        big_sql, small_sql = _statements(client, big_url), _statements(client, small_url)
        assert len(big_sql) == len(small_sql), (name, [sql[:150] for sql in big_sql if sql not in small_sql])
    # The whole history, when asked for, costs the same number of queries too.
    whole = reverse("console:ticket_timeline", kwargs={"number": big.number}) + "?all=1"
    assert _queries(client, whole) == _queries(client, reverse("console:ticket_timeline",
                                                                kwargs={"number": small.number}) + "?all=1")


@pytest.mark.django_db
def test_long_thread_opens_on_its_newest_entries_and_loads_the_rest_on_request(client, team, agent, customer):
    ticket = _thread(team, agent, customer, 40)
    client.force_login(agent)
    page = client.get(reverse("console:ticket", kwargs={"number": ticket.number})).content.decode()
    assert "reply 38" in page and "note 39" in page  # the newest
    assert ">reply 0<" not in page and "Show earlier messages and changes" in page
    whole = client.get(reverse("console:ticket_timeline", kwargs={"number": ticket.number}) + "?all=1",
                       HTTP_HX_REQUEST="true").content.decode()
    assert all(f"{'note' if i % 2 else 'reply'} {i}<" in whole for i in range(40))
    assert "Show earlier messages and changes" not in whole
    assert 'id="timeline-whole" name="all" value="1"' in whole  # later refreshes keep the whole history open
    assert 'id="timeline-whole" name="all" value="0"' in page  # (always there: htmx warns of a missing include)


@pytest.mark.django_db
@pytest.mark.parametrize("undeliverable", [False, True])
@pytest.mark.parametrize("rating", [None, "", "good"])
def test_ticket_page_reads_the_requesters_address_flag_and_the_rating_with_the_ticket(
        client, team_ticket, agent, undeliverable, rating):
    """Whether the requester's address is undeliverable and the satisfaction rating come with the ticket's own
    query (each was a query of its own: a round trip to PostgreSQL); the page and the timeline refresh show both."""
    from django.utils import timezone

    from atende.email_channel.models import UndeliverableAddress
    from atende.surveys.models import SatisfactionSurvey

    requester = team_ticket.requester
    requester.email = "Mixed.Case@Customer.example"
    requester.save(update_fields=["email"])
    if undeliverable:
        UndeliverableAddress.objects.create(address="mixed.case@customer.example", kind="hard")
    if rating is not None:
        SatisfactionSurvey.objects.create(ticket=team_ticket, customer=requester, rating=rating,
                                          answered_at=timezone.now() if rating else None)
    client.force_login(agent)
    url = f"/console/tickets/{team_ticket.number}/"
    _statements(client, url)
    statements = _statements(client, url)
    on_their_own = [sql for sql in statements
                    if sql.startswith(('SELECT "email_channel_undeliverableaddress".', 'SELECT "surveys_satisfactionsurvey".'))]
    assert on_their_own == []
    page = client.get(url).content.decode()
    assert ('data-flag="undeliverable"' in page) is undeliverable
    shown = {None: "No satisfaction rating.", "": "Satisfaction survey sent; not answered yet.", "good": "Rated good"}
    assert shown[rating] in page
    timeline = client.get(reverse("console:ticket_timeline", kwargs={"number": team_ticket.number})).content.decode()
    assert ('data-flag="undeliverable"' in timeline) is undeliverable
