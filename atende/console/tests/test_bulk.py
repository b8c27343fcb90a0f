"""Bulk actions: each through the ticket services, one event per ticket, and a report of every failure."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from atende.accounts.tests.factories import AgentFactory, CollaboratorFactory, TeamFactory
from atende.console.services import tickets_bulk_apply
from atende.core.actor import Actor
from atende.core.exceptions import PermissionDenied, ValidationError
from atende.tickets.models import Message, Ticket, TicketEvent
from atende.tickets.services import ticket_transition
from atende.tickets.tests.factories import make_ticket

URL = reverse("console:bulk")


@pytest.fixture
def three(db, agent, team, customer):
    actor = Actor.for_user(agent)
    return [make_ticket(actor=actor, requester=customer, team=team, subject=f"Bulk {i}") for i in range(3)]


def _events(ticket, type_):
    return list(TicketEvent.objects.filter(ticket=ticket, type=type_))


def test_bulk_assign_assigns_each_ticket_with_one_event(client, three, agent, other_agent,
                                                        django_capture_on_commit_callbacks):
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(URL, {"tickets": [t.pk for t in three[:2]], "action": "assign",
                                     "assignee": str(other_agent.pk), "next": "/console/?view=all_open"})
    assert response.status_code == 302 and response["Location"] == "/console/?view=all_open"
    for ticket in three[:2]:
        ticket.refresh_from_db()
        assert ticket.assignee == other_agent
        events = _events(ticket, "ASSIGNEE_CHANGED")
        assert len(events) == 1 and events[0].actor_user == agent
        assert events[0].data["new"]["id"] == other_agent.pk
    assert Ticket.objects.get(pk=three[2].pk).assignee is None
    assert len(callbacks) >= 2  # each event is published after its own commit
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("2 tickets updated" in t and f"#{three[0].number}" in t for t in texts)


def test_partial_failure_reports_each_failed_ticket_and_why(client, three, agent):
    actor = Actor.for_user(agent)
    closed = three[2]
    ticket_transition(ticket=closed, to="solved", actor=actor)
    ticket_transition(ticket=closed, to="closed", actor=actor)
    client.force_login(agent)
    response = client.post(URL, {"tickets": [t.pk for t in three], "action": "status", "status": "pending"},
                           follow=True)
    assert response.status_code == 200
    for ticket in three[:2]:
        ticket.refresh_from_db()
        assert ticket.status == "pending"
        assert len(_events(ticket, "STATUS_CHANGED")) == 1
    closed.refresh_from_db()
    assert closed.status == "closed"
    html = response.content.decode()
    assert "2 tickets updated" in html
    assert "1 ticket could not be changed" in html
    assert f"#{closed.number}: Ticket #{closed.number} cannot move from Closed to Pending" in html


def test_report_from_the_service(three, agent, team):
    hidden = make_ticket(actor=Actor.for_user(AgentFactory()), team=TeamFactory())
    restricted = AgentFactory(restrict_to_teams=True)
    team.members.add(restricted)
    report = tickets_bulk_apply(user=restricted, ticket_ids=[three[0].pk, hidden.pk, 999999], action="priority",
                                priority="urgent")
    assert [o.number for o in report.succeeded] == [three[0].number]
    assert {(o.ticket_id, o.code) for o in report.failed} == {(hidden.pk, "not_found"), (999999, "not_found")}
    hidden.refresh_from_db()
    assert hidden.priority != "urgent"  # invisible tickets are never touched
    data = _events(three[0], "PRIORITY_CHANGED")[0].data
    assert (data["old"], data["new"]) == ("normal", "urgent")


def test_bulk_tags_team_spam_and_unassign(three, agent, other_agent):
    a, b, c = three
    tickets_bulk_apply(user=agent, ticket_ids=[a.pk, b.pk], action="add_tags", tags=["vip", "Billing"])
    assert set(a.tags.values_list("name", flat=True)) == {"vip", "billing"}
    assert len(_events(a, "TAGS_CHANGED")) == 1
    tickets_bulk_apply(user=agent, ticket_ids=[a.pk], action="remove_tags", tags=["vip"])
    assert set(a.tags.values_list("name", flat=True)) == {"billing"}
    tickets_bulk_apply(user=agent, ticket_ids=[b.pk], action="assign", assignee=other_agent)
    new_team = TeamFactory()
    tickets_bulk_apply(user=agent, ticket_ids=[b.pk], action="team", team=new_team)
    b.refresh_from_db()
    assert b.team == new_team and b.assignee is None  # the assignee is not in the new team
    report = tickets_bulk_apply(user=agent, ticket_ids=[c.pk], action="spam")
    c.refresh_from_db()
    assert report.succeeded and c.is_spam and c.status == "closed"
    assert len(_events(c, "MARKED_SPAM")) == 1


def test_bulk_merge_moves_messages_into_the_target(three, agent):
    a, b, target = three
    report = tickets_bulk_apply(user=agent, ticket_ids=[a.pk, b.pk, target.pk], action="merge",
                                merge_target_number=target.number)
    assert sorted(o.number for o in report.succeeded) == sorted([a.number, b.number]) and not report.failed
    a.refresh_from_db()
    assert a.merged_into == target and a.status == "closed"
    assert Message.objects.filter(ticket=target, kind="reply").count() == 3
    assert len(_events(target, "MERGED_FROM")) == 2
    with pytest.raises(ValidationError):
        tickets_bulk_apply(user=agent, ticket_ids=[a.pk], action="merge", merge_target_number=987654)


def test_bulk_needs_an_agent_and_valid_input(client, three, team, customer):
    collaborator = CollaboratorFactory()
    team.members.add(collaborator)
    with pytest.raises(PermissionDenied):
        tickets_bulk_apply(user=collaborator, ticket_ids=[three[0].pk], action="spam")
    client.force_login(collaborator)
    assert client.post(URL, {"tickets": [three[0].pk], "action": "spam"}).status_code == 404
    client.force_login(customer)
    assert client.post(URL, {"tickets": [three[0].pk], "action": "spam"}).status_code == 404
    three[0].refresh_from_db()
    assert not three[0].is_spam


def test_bulk_form_errors_become_messages(client, three, agent):
    client.force_login(agent)
    response = client.post(URL, {"action": "assign", "assignee": "me"}, follow=True)
    assert "Select at least one ticket." in response.content.decode()
    response = client.post(URL, {"tickets": [three[0].pk], "action": "status"}, follow=True)
    assert "Choose a status." in response.content.decode()
    response = client.post(URL, {"tickets": [three[0].pk], "action": "assign", "assignee": "me",
                                 "next": "https://evil.example/"})
    assert response["Location"] == reverse("console:queues")  # no open redirects
    three[0].refresh_from_db()
    assert three[0].assignee == agent
