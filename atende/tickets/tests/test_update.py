"""Field changes, assignment, tags, followers and requester: one event per kind of change, nothing on closed tickets."""

import pytest

from atende.accounts.tests.factories import AgentFactory, CustomerFactory, OrganizationFactory, TeamFactory
from atende.core.actor import Actor
from atende.core.exceptions import Conflict, PermissionDenied, ValidationError
from atende.tickets.choices import TicketEventType, TicketStatus
from atende.tickets.models import Ticket, TicketEvent, TicketFollower
from atende.tickets.services import (
    ticket_assign,
    ticket_change_requester,
    ticket_set_followers,
    ticket_set_sla,
    ticket_set_tags,
    ticket_update,
)
from atende.tickets.tests.factories import CategoryFactory
from atende.tickets.tests.helpers import drive_to, event_rows

pytestmark = pytest.mark.django_db


def test_update_records_fields_and_priority_separately(ticket, agent, delivered_events,
                                                       django_capture_on_commit_callbacks):
    category = CategoryFactory()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_update(ticket=ticket, actor=Actor.for_user(agent), expected_version=ticket.version,
                      changes={"subject": "Printer on fire (3rd floor)", "category": category, "urgency": "high",
                               "impact": "high"})
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.subject == "Printer on fire (3rd floor)" and row.category == category
    assert row.priority == "urgent" and not row.priority_manual  # high × high by the matrix
    assert row.version == ticket.version + 1
    (priority,) = event_rows(ticket, TicketEventType.PRIORITY_CHANGED)
    assert (priority.data["old"], priority.data["new"]) == ("normal", "urgent")
    (fields,) = event_rows(ticket, TicketEventType.FIELDS_CHANGED)
    assert fields.data["old"]["urgency"] == "medium" and fields.data["new"]["urgency"] == "high"
    assert fields.data["new"]["category"] == {"id": category.pk, "name": category.name}
    assert [p["type"] for p in delivered_events] == ["PRIORITY_CHANGED", "FIELDS_CHANGED"]


def test_update_with_a_bad_value_changes_nothing(ticket, agent_actor):
    for changes in ({"urgency": "extreme", "subject": "New"}, {"priority": None, "urgency": "bad"},
                    {"colour": "red"}, {"subject": ""}):
        with pytest.raises(ValidationError):
            ticket_update(ticket=ticket, actor=agent_actor, changes=changes)
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.subject == "Printer on fire" and row.version == 1
    assert list(TicketEvent.objects.filter(ticket=ticket).values_list("type", flat=True)) == ["TICKET_CREATED"]


def test_update_status_goes_through_the_state_machine(ticket, agent_actor):
    ticket_update(ticket=ticket, actor=agent_actor, changes={"status": "solved", "resolution_summary": "Done"})
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.status == TicketStatus.SOLVED and row.resolution_summary == "Done"
    with pytest.raises(Conflict):
        ticket_update(ticket=ticket, actor=agent_actor, changes={"status": "pending"})


def test_nothing_changes_on_a_closed_ticket(ticket, agent_actor, team):
    ticket = drive_to(ticket, TicketStatus.CLOSED)
    calls = [
        lambda: ticket_update(ticket=ticket, actor=agent_actor, changes={"subject": "x"}),
        lambda: ticket_assign(ticket=ticket, actor=agent_actor, team=team, assignee=None),
        lambda: ticket_set_tags(ticket=ticket, actor=agent_actor, tags=["x"]),
        lambda: ticket_set_followers(ticket=ticket, actor=agent_actor, followers=[CustomerFactory()]),
    ]
    for call in calls:
        with pytest.raises(Conflict) as info:
            call()
        assert info.value.code == "ticket_closed"
    assert Ticket.objects.get(pk=ticket.pk).version == ticket.version


def test_customers_and_collaborators_cannot_update(ticket, customer, collaborator):
    for user in (customer, collaborator):
        with pytest.raises(PermissionDenied):
            ticket_update(ticket=ticket, actor=Actor.for_user(user), changes={"subject": "Mine now"})
    assert Ticket.objects.get(pk=ticket.pk).subject == "Printer on fire"


def test_assign_records_team_and_assignee(ticket, agent, team, delivered_events,
                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket_assign(ticket=ticket, actor=Actor.for_user(agent), team=team, assignee=agent, reason="manual")
    row = Ticket.objects.get(pk=ticket.pk)
    assert (row.team, row.assignee, row.version) == (team, agent, 2)
    (team_event,) = event_rows(ticket, TicketEventType.TEAM_CHANGED)
    assert team_event.data == {"old": None, "new": {"id": team.pk, "name": team.name}, "reason": "manual"}
    (assignee_event,) = event_rows(ticket, TicketEventType.ASSIGNEE_CHANGED)
    assert assignee_event.data["new"] == {"id": agent.pk, "name": agent.display_name}
    assert [p["type"] for p in delivered_events] == ["TEAM_CHANGED", "ASSIGNEE_CHANGED"]
    assert delivered_events[-1]["assignee_id"] == agent.pk
    # the same assignment again is not a change
    ticket_assign(ticket=ticket, actor=Actor.for_user(agent), team=team, assignee=agent)
    assert Ticket.objects.get(pk=ticket.pk).version == 2


def test_assign_refuses_non_agents(ticket, agent_actor, customer):
    with pytest.raises(ValidationError):
        ticket_assign(ticket=ticket, actor=agent_actor, team=None, assignee=customer)
    with pytest.raises(ValidationError):
        ticket_assign(ticket=ticket, actor=agent_actor, team=None, assignee=AgentFactory(is_active=False))
    assert Ticket.objects.get(pk=ticket.pk).assignee is None


def test_tags_replace_add_and_remove(ticket, agent_actor):
    ticket_set_tags(ticket=ticket, actor=agent_actor, tags=["VPN", "urgent customer"])
    ticket_set_tags(ticket=ticket, actor=agent_actor, add=["billing"], remove=["vpn"])
    assert sorted(Ticket.objects.get(pk=ticket.pk).tags.values_list("name", flat=True)) == [
        "billing", "urgent-customer"]
    first, second = event_rows(ticket, TicketEventType.TAGS_CHANGED)
    assert first.data == {"added": ["urgent-customer", "vpn"], "removed": [], "new": ["urgent-customer", "vpn"]}
    assert second.data == {"added": ["billing"], "removed": ["vpn"], "new": ["billing", "urgent-customer"]}


def test_followers_never_include_the_requester(ticket, agent_actor, customer):
    cc, agent2 = CustomerFactory(), AgentFactory()
    ticket_set_followers(ticket=ticket, actor=agent_actor, followers=[cc, agent2, customer])
    assert set(TicketFollower.objects.filter(ticket=ticket).values_list("user_id", flat=True)) == {cc.pk, agent2.pk}
    ticket_set_followers(ticket=ticket, actor=agent_actor, remove=[cc])
    (first, second) = event_rows(ticket, TicketEventType.FOLLOWERS_CHANGED)
    assert first.data == {"added": sorted([cc.pk, agent2.pk]), "removed": []}
    assert second.data == {"added": [], "removed": [cc.pk]}


def test_change_requester_moves_the_organisation(ticket, agent_actor, customer):
    org = OrganizationFactory()
    new = CustomerFactory(organization=org)
    ticket_change_requester(ticket=ticket, actor=agent_actor, requester=new)
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.requester == new and row.organization == org
    (event,) = event_rows(ticket, TicketEventType.REQUESTER_CHANGED)
    assert event.data["old"]["id"] == customer.pk and event.data["new"]["id"] == new.pk
    with pytest.raises(ValidationError):
        ticket_change_requester(ticket=ticket, actor=agent_actor, requester=CustomerFactory(is_active=False))


def test_sla_bookkeeping_does_not_bump_the_version(ticket):
    import datetime

    from django.utils import timezone

    due = timezone.now() + datetime.timedelta(hours=4)
    ticket_set_sla(ticket=ticket, actor=Actor.system(), policy_id=7, due={"first_reply": due},
                   event_type=TicketEventType.SLA_APPLIED, data={"policy": 7})
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.sla_policy_id == 7 and row.first_reply_due_at == due and row.sla_due_at == due
    assert row.version == 1
    assert event_rows(ticket, TicketEventType.SLA_APPLIED)[0].data == {"policy": 7}


def test_team_is_kept_when_only_the_assignee_changes(team_ticket, agent_actor):
    other_team = TeamFactory()
    ticket_update(ticket=team_ticket, actor=agent_actor, changes={"team": other_team})
    assert Ticket.objects.get(pk=team_ticket.pk).team == other_team
