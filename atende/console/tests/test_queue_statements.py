"""The statements behind a queue page and the sidebar counts: the same rows as the ORM reads, only visible tickets,
and on PostgreSQL prepared on the server once they have run ``prepare_threshold`` times on a connection."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from atende.accounts.models import User
from atende.accounts.tests.factories import AgentFactory, CustomerFactory, OrganizationFactory, TeamFactory
from atende.console.selectors import (
    last_message_previews,
    queue_counts,
    queue_get,
    queue_list_for_user,
    queue_tickets_page,
)
from atende.console.services import saved_view_create
from atende.core.actor import Actor
from atende.tickets.filters import TicketFilters
from atende.tickets.list_items import ticket_list_items
from atende.tickets.models import Ticket
from atende.tickets.services import message_add_reply
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def _desk(agent, team):
    actor = Actor.for_user(agent)
    org = OrganizationFactory(name="Acme")
    requester = CustomerFactory(organization=org, name="Rita Requester")
    other_team = TeamFactory(name="Elsewhere")
    ours = [make_ticket(actor=actor, requester=requester, team=team, assignee=agent, subject=f"Ours {i}",
                        priority="high", tags=["vip", "blue"] if i % 2 else []) for i in range(5)]
    theirs = make_ticket(actor=actor, requester=requester, team=other_team, subject="Theirs")
    return ours, theirs


def _restricted_to(team) -> User:
    restricted = AgentFactory(restrict_to_teams=True)
    team.members.add(restricted)
    return User.objects.get(pk=restricted.pk)


def test_list_items_are_the_visible_tickets_columns_whatever_ids_are_asked(agent, team):
    ours, theirs = _desk(agent, team)
    restricted = _restricted_to(team)
    asked = [t.pk for t in ours] + [theirs.pk]
    items = ticket_list_items(restricted, asked, with_tags=True)
    assert sorted(items) == sorted(t.pk for t in ours)  # another team's ticket is not read, even asked by id
    for ticket in Ticket.objects.filter(pk__in=[t.pk for t in ours]).select_related(
            "requester", "assignee", "team", "organization"):
        item = items[ticket.pk]
        assert (item.number, item.subject, item.status, item.priority, item.version) == (
            ticket.number, ticket.subject, ticket.status, ticket.priority, ticket.version)
        assert (item.requester.display_name, item.assignee.pk, item.team.name, item.organization.name) == (
            "Rita Requester", agent.pk, team.name, "Acme")
        assert item.created_at == ticket.created_at and item.updated_at == ticket.updated_at
        assert item.tag_names == sorted(ticket.tags.values_list("name", flat=True))
    for _ in range(7):  # past the prepare threshold on PostgreSQL: the prepared statements give the same answer
        assert sorted(ticket_list_items(restricted, asked)) == sorted(items)
        assert sorted(ticket_list_items(agent, asked)) == sorted(asked)  # an agent who sees every ticket


@pytest.mark.parametrize("size", [10, 25])
def test_every_page_size_reads_the_whole_queue_once_in_order(agent, team, size):
    actor = Actor.for_user(agent)
    made = [make_ticket(actor=actor, team=team, assignee=agent, subject=f"T{i}") for i in range(size + 3)]
    queue = queue_get(user=agent, key="mine")
    first = queue_tickets_page(user=agent, queue=queue, size=size)
    second = queue_tickets_page(user=agent, queue=queue, size=size, cursor=first.next_cursor)
    numbers = [t.number for t in first.items + second.items]
    assert numbers == sorted((t.number for t in made), reverse=True)  # updated_at descending: newest first
    assert len(first.items) == size and not second.has_next


def test_a_restricted_agent_s_saved_view_pages_and_counts_leave_out_other_teams(client, agent, team):
    ours, theirs = _desk(agent, team)
    restricted = _restricted_to(team)
    view = saved_view_create(user=restricted, name="High", filters=TicketFilters.from_dict({"priority": ["high"]}))
    theirs.priority = "high"
    theirs.save(update_fields=["priority"])
    client.force_login(restricted)
    for _ in range(7):  # past the prepare threshold on PostgreSQL: the prepared statements give the same answer
        response = client.get(reverse("console:saved_view", args=[view.pk]))
        assert sorted(t.pk for t in response.context["page"].items) == sorted(t.pk for t in ours)
        counts = queue_counts(user=restricted, queues=queue_list_for_user(user=restricted))
        assert counts[f"view-{view.pk}"] == 5 and counts["all_open"] == 5


def test_previews_read_the_latest_reply_of_each_asked_ticket(agent, team):
    ours, _theirs = _desk(agent, team)
    message_add_reply(ticket=ours[0], actor=Actor.for_user(agent), body_text="First   answer\nhere")
    assert last_message_previews(ticket_ids=[ours[0].pk, ours[1].pk]) == {
        ours[0].pk: "First answer here", ours[1].pk: "It is on fire."}


@pytest.mark.postgres
def test_on_postgresql_the_page_and_count_statements_are_prepared(client, agent, team):
    """Planning the rows' six joins took longer than running them: the keys, rows, tags and previews statements
    are prepared once they have run ``prepare_threshold`` times; the counts (whose planning is a fraction of their
    run, and whose generic plans counted slower) and reads elsewhere stay client-bound."""
    _desk(agent, team)
    view = saved_view_create(user=agent, name="Tagged", filters=TicketFilters.from_dict(
        {"status": ["active"], "tags": ["vip"]}), columns=["number", "subject", "tags", "team", "category"])
    client.force_login(agent)
    threshold = connection.settings_dict["OPTIONS"]["prepare_threshold"]
    for _ in range(threshold + 1):
        assert client.get(reverse("console:saved_view", args=[view.pk])).status_code == 200
        assert client.get(reverse("console:queue_nav")).status_code == 200
        queue_counts(user=agent, queues=queue_list_for_user(user=agent))
        list(Ticket.objects.filter(pk=0))
    with CaptureQueriesContext(connection) as logged:
        client.get(reverse("console:saved_view", args=[view.pk]))
    assert all(query["sql"] for query in logged.captured_queries)  # prepared statements are logged too
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]

    def prepared(*parts: str) -> list[str]:
        return [s for s in statements if all(p in s for p in parts)]

    assert prepared('"tickets_category"."name"', '"tickets_ticket"."id" IN ($'), statements  # the page's rows
    assert prepared('"tickets_tickettag"."ticket_id" IN ($'), statements  # their tags
    assert prepared('SELECT "tickets_ticket"."updated_at" AS "updated_at", "tickets_ticket"."id" AS "id" FROM',
                    "LIMIT 51"), statements  # the page's keys
    assert prepared("SUBSTRING"), statements  # the hover previews
    assert not prepared("SELECT COUNT(*)"), statements  # the sidebar counts
    assert not prepared('"tickets_ticket"."id" = $1'), statements  # an ORM read outside the lists


def test_a_page_s_rows_read_is_not_built_again_on_every_page(agent, team):
    """For someone who sees every ticket the rows' SQL is compiled once per connection and page size."""
    import cProfile
    import pstats

    from atende.tickets.list_items import _COLUMNS

    ours, theirs = _desk(agent, team)
    ids = [t.pk for t in ours] + [theirs.pk]
    ticket_list_items(agent, ids)

    def calls(fn) -> int:
        profile = cProfile.Profile()
        profile.runcall(fn)
        return pstats.Stats(profile).total_calls

    orm = calls(lambda: list(Ticket.objects.filter(pk__in=ids).order_by().values_list(*_COLUMNS)))
    prepared = calls(lambda: ticket_list_items(agent, ids))
    assert prepared * 3 < orm, (orm, prepared)
