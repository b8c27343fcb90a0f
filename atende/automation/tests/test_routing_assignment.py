"""Routing rules on new tickets and the assignment strategies, including capacity under real concurrency."""

import threading

import pytest
from django.db import close_old_connections, connection

from atende.accounts.tests.factories import AgentFactory, TeamFactory
from atende.automation.services.assignment import agent_set_availability, team_set_assignment, ticket_auto_assign
from atende.automation.services.definitions import rule_save
from atende.core.actor import Actor
from atende.tickets.choices import TicketEventType as E
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.services import ticket_assign
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def agents(team, n, **kwargs):
    made = [AgentFactory(availability="online", **kwargs) for _ in range(n)]
    team.members.add(*made)
    return made


def test_routing_rule_sets_team_priority_tags_type_and_category(create_ticket, team, customer):
    from atende.tickets.tests.factories import CategoryFactory

    billing = CategoryFactory(name="Billing")
    rule_save(kind="routing", name="Invoices", conditions={"any": [
        {"field": "subject", "op": "contains_any_words", "value": "invoice fatura"},
        {"field": "sender_domain", "op": "is", "value": "bigcorp.example"}]},
        actions=[{"type": "set_team", "value": team.pk}, {"type": "set_priority", "value": "high"},
                 {"type": "add_tags", "value": ["billing"]}, {"type": "set_type", "value": "question"},
                 {"type": "set_category", "value": billing.pk}])
    ticket = create_ticket(subject="Minha fatura veio errada", channel="email")
    assert (ticket.team_id, ticket.priority, ticket.category_id) == (team.pk, "high", billing.pk)
    assert list(ticket.tags.values_list("name", flat=True)) == ["billing"]
    team_event = TicketEvent.objects.get(ticket=ticket, type=E.TEAM_CHANGED)
    assert team_event.actor_kind == "automation"
    assert team_event.source_event_id == TicketEvent.objects.get(ticket=ticket, type=E.TICKET_CREATED).pk
    assert create_ticket(subject="Login broken").team_id is None


def test_first_matching_rule_wins_when_it_stops(create_ticket):
    first, second = TeamFactory(), TeamFactory()
    rule_save(kind="routing", name="A", conditions={"all": [{"field": "channel", "op": "is", "value": "email"}]},
              actions=[{"type": "set_team", "value": first.pk}], stop=True)
    rule_save(kind="routing", name="B", conditions={}, actions=[{"type": "set_team", "value": second.pk}])
    assert create_ticket(channel="email").team_id == first.pk
    assert create_ticket(channel="web").team_id == second.pk


def test_routing_with_custom_field_condition(create_ticket, team):
    from atende.tickets.models import CustomField

    CustomField.objects.create(key="plan", label="Plan", kind="dropdown", choices=["free", "enterprise"])
    rule_save(kind="routing", name="Enterprise", conditions={"all": [
        {"field": "custom_fields.plan", "op": "is", "value": "enterprise"}]},
        actions=[{"type": "set_priority", "value": "urgent"}])
    assert create_ticket(custom_fields={"plan": "enterprise"}).priority == "urgent"
    assert create_ticket(custom_fields={"plan": "free"}).priority != "urgent"


def test_round_robin_rotates_and_skips_unavailable_agents(create_ticket, team):
    team_set_assignment(team=team, strategy="round_robin", reassign_when_offline=False)
    a, b, c = agents(team, 3)
    c.availability = "away"
    c.save()
    assigned = [create_ticket(team=team).assignee_id for _ in range(4)]
    assert assigned == [a.pk, b.pk, a.pk, b.pk]


def test_least_loaded_respects_capacity(create_ticket, team):
    team_set_assignment(team=team, strategy="least_loaded", reassign_when_offline=False)
    busy, free = agents(team, 2, capacity=2)
    for _ in range(2):
        make_ticket(team=team, assignee=busy, actor=Actor.system())
    assert create_ticket(team=team).assignee_id == free.pk
    assert create_ticket(team=team).assignee_id == free.pk
    full = create_ticket(team=team)  # both at capacity now: stays in the team queue
    assert full.assignee_id is None and full.team_id == team.pk


def test_skills_match_with_fallback(create_ticket, team):
    team_set_assignment(team=team, strategy="skills", reassign_when_offline=False)
    generalist, portuguese, api = agents(team, 3)
    portuguese.skills = ["pt-br"]
    api.skills = ["api", "billing"]
    portuguese.save()
    api.save()
    assert create_ticket(team=team, tags=["api"]).assignee_id == api.pk
    assert create_ticket(team=team, language="pt-br").assignee_id == portuguese.pk
    assert create_ticket(team=team, tags=["printer"]).assignee_id == generalist.pk  # nobody matches: least loaded


def test_manual_team_is_left_alone(create_ticket, team):
    agents(team, 1)
    assert create_ticket(team=team).assignee_id is None


def test_going_offline_reassigns_when_the_team_asks(create_ticket, team):
    team_set_assignment(team=team, strategy="least_loaded", reassign_when_offline=True)
    leaving, staying = agents(team, 2)
    staying.availability = "away"
    staying.save()
    ticket = create_ticket(team=team)
    assert ticket.assignee_id == leaving.pk
    staying.availability = "online"
    staying.save()
    assert agent_set_availability(agent=leaving, availability="offline", actor=Actor.for_user(leaving)) == 1
    ticket.refresh_from_db()
    leaving.refresh_from_db()
    assert leaving.availability == "offline" and ticket.assignee_id == staying.pk
    event = TicketEvent.objects.filter(ticket=ticket, type=E.ASSIGNEE_CHANGED).latest("id")
    assert event.data["old"]["id"] == leaving.pk and event.actor_kind == "automation"


def test_going_offline_without_anyone_free_returns_tickets_to_the_queue(create_ticket, team):
    team_set_assignment(team=team, strategy="round_robin", reassign_when_offline=True)
    [only] = agents(team, 1)
    ticket = create_ticket(team=team)
    agent_set_availability(agent=only, availability="offline", actor=Actor.for_user(only))
    ticket.refresh_from_db()
    assert ticket.assignee_id is None and ticket.team_id == team.pk


def test_offline_without_the_setting_keeps_assignments(create_ticket, team):
    team_set_assignment(team=team, strategy="least_loaded", reassign_when_offline=False)
    [one] = agents(team, 1)
    ticket = create_ticket(team=team)
    agent_set_availability(agent=one, availability="offline", actor=Actor.for_user(one))
    ticket.refresh_from_db()
    assert ticket.assignee_id == one.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tickets_at_once_never_exceed_capacity():
    """Two real transactions choose an agent at the same moment; the row locks serialise them."""
    team = TeamFactory(assignment_strategy="least_loaded")
    [agent] = agents(team, 1, capacity=1)
    tickets = [make_ticket(team=team, actor=Actor.system()) for _ in range(2)]
    for t in tickets:  # clear any assignment made by the on-commit tasks
        ticket_assign(ticket=t, actor=Actor.system(), team=team, assignee=None)
    barrier = threading.Barrier(2)
    results, errors = {}, []

    def assign(ticket_id):
        try:
            close_old_connections()
            barrier.wait(timeout=10)
            result = ticket_auto_assign(ticket=Ticket(pk=ticket_id), actor=Actor.system())
            results[ticket_id] = result.assignee_id if result else None
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=assign, args=(t.pk,)) for t in tickets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert sorted(results.values(), key=lambda v: v or 0) == [None, agent.pk]
    assert Ticket.objects.filter(assignee=agent).count() == 1
