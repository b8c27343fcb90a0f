"""Routing and automatic assignment over a batch of new tickets: rules evaluated in memory, team changes and
assignments written together, and each ticket's choice of agent seeing the tickets handed out before it in the
same batch, exactly as routing them one at a time does."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from atende.accounts.tests.factories import AgentFactory, TeamFactory
from atende.automation.models import RuleRun
from atende.automation.services.assignment import team_set_assignment
from atende.automation.services.definitions import rule_save
from atende.automation.subscribers import automation_on_events
from atende.core.actor import Actor
from atende.core.memo import batch_scope
from atende.core.outbox.dispatch import payload_of
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

FIELDS = ("id", "type", "ticket_id", "actor_kind", "actor_user_id", "source_event_id", "data", "created_at")


def run(events):
    with batch_scope(), CaptureQueriesContext(connection) as ctx:
        automation_on_events(events)
    return len(ctx.captured_queries)


def routed_team(strategy, loads=(), capacity=None):
    """A team every new ticket is routed to, with online agents already holding ``loads`` open tickets."""
    team = TeamFactory()
    team_set_assignment(team=team, strategy=strategy, reassign_when_offline=False)
    members = [AgentFactory(availability="online", capacity=capacity) for _ in range(max(len(loads), 3))]
    team.members.add(*members)
    for agent, load in zip(members, loads, strict=False):
        for _ in range(load):
            make_ticket(team=team, assignee=agent, actor=Actor.system())
    rule_save(kind="routing", name="Everything", conditions={}, actions=[
        {"type": "set_team", "value": team.pk}, {"type": "add_tags", "value": ["routed"]}])
    return team, members


def new_tickets(count, customer):
    tickets = [make_ticket(requester=customer, body="The printer jams.") for _ in range(count)]
    events = [payload_of(row) for row in TicketEvent.objects.filter(ticket__in=tickets).order_by("id").values(*FIELDS)]
    return tickets, events


def outcome(tickets):
    """What each ticket ended up with, and its automation events in order (ids and times aside)."""
    rows = {t.pk: t for t in Ticket.objects.filter(pk__in=[t.pk for t in tickets])}
    result = []
    for t in tickets:
        events = [(e.type, e.actor_kind, e.source_event_id, e.data) for e in
                  TicketEvent.objects.filter(ticket_id=t.pk, actor_kind="automation").order_by("id")]
        runs = sorted(RuleRun.objects.filter(ticket_id=t.pk).values_list("kind", "rule_id", "status"))
        result.append((rows[t.pk].team_id, rows[t.pk].assignee_id, rows[t.pk].version,
                       sorted(rows[t.pk].tags.values_list("name", flat=True)), events, runs))
    return result


def one_by_one_and_batched(events, tickets):
    """The outcome of routing the events one at a time, rolled back, then of routing them as one batch."""
    with transaction.atomic():
        for event in events:
            run([event])
        single = outcome(tickets)
        transaction.set_rollback(True)
    run(events)
    return single, outcome(tickets)


def test_routing_a_batch_costs_about_the_same_statements_for_twenty_tickets_as_for_two(customer):
    routed_team("least_loaded")
    _few, few_events = new_tickets(2, customer)
    many, many_events = new_tickets(20, customer)
    few_queries, many_queries = run(few_events), run(many_events)
    # One UPDATE of tickets per agent given tickets: three agents here, so at most one more than for two tickets.
    assert many_queries <= few_queries + 1
    assert all(t.team_id and t.assignee_id for t in Ticket.objects.filter(pk__in=[t.pk for t in many]))


@pytest.mark.parametrize(("strategy", "loads", "capacity"), [
    ("least_loaded", (3, 0, 1), 3), ("least_loaded", (0, 0, 0), None), ("round_robin", (1, 0, 2), 3),
    ("skills", (2, 0, 1), None)])
def test_a_batch_spreads_tickets_across_agents_as_one_at_a_time_does(customer, strategy, loads, capacity):
    team, members = routed_team(strategy, loads, capacity)
    tickets, events = new_tickets(7, customer)
    single, batched = one_by_one_and_batched(events, tickets)
    assert batched == single
    assignees = [assignee for _team, assignee, *_rest in batched]
    assert len(set(assignees) - {None}) > 1  # spread, not all to the agent least loaded at the start
    if capacity:
        held = {m.pk: Ticket.objects.filter(assignee=m).count() for m in members}
        assert all(n <= capacity for n in held.values())
        assert None in assignees  # the team filled up during the batch: the rest wait in its queue
    assert all(team_id == team.pk for team_id, *_rest in batched)


def test_a_routing_batch_delivered_again_changes_nothing(customer):
    routed_team("round_robin")
    tickets, events = new_tickets(4, customer)
    run(events)
    first = outcome(tickets)
    run(events)
    assert outcome(tickets) == first


def test_a_rule_that_assigns_on_its_own_sees_the_batch_assignments_before_it(customer):
    """A trigger that reassigns automatically writes the ticket itself: what the batch assigned before it is
    written first, so its choice (and the next ticket's) counts those tickets, as one at a time."""
    routed_team("least_loaded", (2, 0, 1))
    rule_save(kind="trigger", name="Hand on", events=["created"], conditions={}, actions=[{"type": "assign_auto"}])
    tickets, events = new_tickets(5, customer)
    single, batched = one_by_one_and_batched(events, tickets)
    assert batched == single
    assert len({assignee for _team, assignee, *_rest in batched}) > 1
