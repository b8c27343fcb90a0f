"""``ticket_filter_branches``: which lists are read as one index seek per (assignee or team, status)."""

import pytest

from atende.accounts.tests.factories import AgentFactory, TeamFactory
from atende.core.actor import Actor
from atende.core.pagination import keyset_page
from atende.tickets.filters import TicketFilters, apply_ticket_filters, ticket_filter_branches
from atende.tickets.models import Ticket
from atende.tickets.services import ticket_assign, ticket_transition
from atende.tickets.tests.factories import make_ticket


def _filters(**data):
    return TicketFilters.from_dict(data)


@pytest.mark.django_db
def test_statuses_and_one_assignee_split_and_leave_the_query(agent):
    parts, rest = ticket_filter_branches(_filters(status=["active"], assignee=["me"], priority=["high"]), user=agent,
                                         order="-updated_at")
    assert len(parts) == 2  # new and open, each for this agent
    assert rest.status == [] and rest.assignee == [] and rest.priority == ["high"]


@pytest.mark.django_db
def test_unassigned_in_my_teams_splits_on_the_assignee_and_keeps_the_team_filter():
    agent = AgentFactory()
    teams = [TeamFactory(), TeamFactory()]
    for team in teams:
        team.members.add(agent)
    parts, rest = ticket_filter_branches(_filters(status=["active"], assignee=["none"], team=["mine"]), user=agent,
                                         order="created_at")
    assert len(parts) == 2 and rest.team == ["mine"] and rest.assignee == []


@pytest.mark.django_db
@pytest.mark.parametrize("data, order", [
    ({"status": ["open"]}, "-updated_at"),  # one value: one query is as good
    ({"team": ["mine"]}, "-updated_at"),  # no status: nothing to lead the index
])
def test_lists_one_query_serves_are_not_split(agent, data, order):
    filters = _filters(**data)
    assert ticket_filter_branches(filters, user=agent, order=order) == ([], filters)


@pytest.mark.django_db
def test_split_pages_list_exactly_the_filtered_tickets():
    agent, other = AgentFactory(), AgentFactory()
    team = TeamFactory()
    team.members.add(agent, other)
    actor = Actor.for_user(agent)
    made = [make_ticket(actor=actor, team=team, subject=f"T{i}") for i in range(9)]
    for ticket in made[:3]:
        ticket_assign(ticket=ticket, actor=actor, team=team, assignee=other)
    for ticket in made[3:5]:
        ticket_transition(ticket=ticket, to="open", actor=actor)
    ticket_transition(ticket=made[5], to="pending", actor=actor)
    filters = _filters(status=["active"], assignee=["none"], team=["mine"])
    expected = list(apply_ticket_filters(Ticket.objects.all(), filters, user=agent)
                    .order_by("created_at", "id").values_list("pk", flat=True))
    parts, rest = ticket_filter_branches(filters, user=agent, order="created_at")
    qs = apply_ticket_filters(Ticket.objects.all(), rest, user=agent)
    seen, cursor = [], None
    while True:
        page = keyset_page(qs, order="created_at", cursor=cursor, size=2, branches=parts)
        seen += [t.pk for t in page.items]
        if not page.has_next:
            break
        cursor = page.next_cursor
    assert seen == expected and len(seen) == 5  # unassigned, new or open: made[3:5] opened, made[6:9] new


@pytest.mark.django_db
def test_sorts_indexed_by_status_alone_split_on_status_only(agent):
    team = TeamFactory()
    team.members.add(agent)
    filters = _filters(status=["active"], team=["mine"])
    parts, rest = ticket_filter_branches(filters, user=agent, order="sla_due_at")
    assert len(parts) == 2 and rest.team == ["mine"] and rest.status == []
