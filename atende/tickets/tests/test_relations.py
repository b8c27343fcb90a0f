"""Merging, links, problems and their incidents, and spam."""

import pytest

from atende.accounts.tests.factories import CustomerFactory
from atende.core.actor import Actor
from atende.core.exceptions import Conflict, PermissionDenied, ValidationError
from atende.tickets.choices import LinkKind, MessageKind, TicketEventType, TicketStatus, TicketType
from atende.tickets.models import Attachment, Message, Ticket, TicketEvent, TicketFollower, TicketLink
from atende.tickets.services import (
    IncomingFile,
    message_add_reply,
    ticket_link,
    ticket_mark_spam,
    ticket_merge,
    ticket_transition,
    ticket_unlink,
    ticket_update,
)
from atende.tickets.tests.factories import make_ticket
from atende.tickets.tests.helpers import drive_to, event_rows

pytestmark = pytest.mark.django_db


def test_merge_moves_the_thread_and_closes_the_source(customer, agent, delivered_events,
                                                      django_capture_on_commit_callbacks):
    actor = Actor.for_user(agent)
    target = make_ticket(requester=customer, subject="VPN down")
    other = CustomerFactory()
    source = make_ticket(requester=other, subject="VPN not working",
                         attachments=[IncomingFile("log.txt", b"timeout", "text/plain")])
    message_add_reply(ticket=source, actor=actor, body_text="Checking")

    with django_capture_on_commit_callbacks(execute=True):
        result = ticket_merge(source=source, target=target, actor=actor)

    assert result.pk == target.pk
    source_row, target_row = Ticket.objects.get(pk=source.pk), Ticket.objects.get(pk=target.pk)
    assert source_row.merged_into_id == target.pk
    assert source_row.status == TicketStatus.CLOSED
    assert not Message.objects.filter(ticket=source).exists()
    kinds = list(Message.objects.filter(ticket=target).values_list("kind", flat=True))
    assert kinds.count(MessageKind.REPLY) == 3 and kinds[-1] == MessageKind.SYSTEM
    assert Attachment.objects.get().ticket_id == target.pk
    assert TicketFollower.objects.filter(ticket=target, user=other).exists()  # the other requester is kept informed
    (merged_from,) = event_rows(target, TicketEventType.MERGED_FROM)
    assert merged_from.data == {"source": source.number, "messages": 2}
    (merged,) = event_rows(source, TicketEventType.MERGED)
    assert merged.data == {"target": target.number}
    statuses = [(e.data["old"], e.data["new"]) for e in event_rows(source, TicketEventType.STATUS_CHANGED)]
    assert statuses[-2:] == [("open", "solved"), ("solved", "closed")]
    assert target_row.version > target.version
    types = [p["type"] for p in delivered_events]
    assert types.count("MERGED") == 1 and types.count("MERGED_FROM") == 1 and types.count("FOLLOWERS_CHANGED") == 0


def test_merge_is_refused_for_itself_closed_tickets_and_non_agents(customer, agent, collaborator):
    actor = Actor.for_user(agent)
    a, b = make_ticket(requester=customer), make_ticket(requester=customer)
    with pytest.raises(ValidationError):
        ticket_merge(source=a, target=a, actor=actor)
    with pytest.raises(PermissionDenied):
        ticket_merge(source=a, target=b, actor=Actor.for_user(customer))
    with pytest.raises(PermissionDenied):
        ticket_merge(source=a, target=b, actor=Actor.for_user(collaborator))
    drive_to(b, TicketStatus.CLOSED)
    with pytest.raises(Conflict):
        ticket_merge(source=a, target=b, actor=actor)
    with pytest.raises(Conflict):
        ticket_merge(source=b, target=a, actor=actor)
    assert Ticket.objects.get(pk=a.pk).merged_into_id is None
    assert not TicketEvent.objects.filter(type__in=["MERGED", "MERGED_FROM"]).exists()


def test_customer_reply_to_a_merged_ticket_lands_on_the_target(customer, agent):
    actor = Actor.for_user(agent)
    target, source = make_ticket(requester=customer), make_ticket(requester=customer)
    ticket_merge(source=source, target=target, actor=actor)
    message = message_add_reply(ticket=source, actor=Actor.for_user(customer), body_text="Any news?")
    assert message.ticket_id == target.pk
    assert not Ticket.objects.filter(follow_up_of=source).exists()


@pytest.mark.parametrize("kind", [LinkKind.RELATED, LinkKind.DUPLICATE, LinkKind.PARENT])
def test_link_and_unlink_record_events_on_both_tickets(kind, customer, agent_actor):
    a, b = make_ticket(requester=customer), make_ticket(requester=customer)
    link = ticket_link(source=a, target=b, kind=kind, actor=agent_actor)
    assert (link.source_id, link.target_id, link.kind) == (a.pk, b.pk, kind)
    assert ticket_link(source=a, target=b, kind=kind, actor=agent_actor).pk == link.pk  # idempotent
    assert event_rows(a, TicketEventType.LINK_ADDED)[0].data == {"kind": kind, "direction": "out", "ticket": b.number}
    assert event_rows(b, TicketEventType.LINK_ADDED)[0].data == {"kind": kind, "direction": "in", "ticket": a.number}
    assert TicketEvent.objects.filter(type=TicketEventType.LINK_ADDED).count() == 2
    ticket_unlink(source=a, target=b, kind=kind, actor=agent_actor)
    assert not TicketLink.objects.exists()
    assert TicketEvent.objects.filter(type=TicketEventType.LINK_REMOVED).count() == 2


def test_link_rejects_self_unknown_kinds_and_customers(ticket, customer, agent_actor):
    other = make_ticket(requester=customer)
    with pytest.raises(ValidationError):
        ticket_link(source=ticket, target=ticket, kind=LinkKind.RELATED, actor=agent_actor)
    with pytest.raises(ValidationError):
        ticket_link(source=ticket, target=other, kind="blocks", actor=agent_actor)
    with pytest.raises(PermissionDenied):
        ticket_link(source=ticket, target=other, kind=LinkKind.RELATED, actor=Actor.for_user(customer))
    assert not TicketLink.objects.exists()


def test_problem_link_needs_a_problem_and_sets_the_incident_parent(customer, agent_actor):
    problem = make_ticket(requester=customer, type=TicketType.PROBLEM, subject="Mail server overloaded")
    incident = make_ticket(requester=customer, type=TicketType.INCIDENT)
    with pytest.raises(ValidationError) as info:
        ticket_link(source=incident, target=problem, kind=LinkKind.PROBLEM, actor=agent_actor)
    assert info.value.code == "not_a_problem"
    ticket_link(source=problem, target=incident, kind=LinkKind.PROBLEM, actor=agent_actor)
    assert Ticket.objects.get(pk=incident.pk).problem_id == problem.pk
    other_problem = make_ticket(requester=customer, type=TicketType.PROBLEM)
    with pytest.raises(ValidationError) as info:
        ticket_link(source=problem, target=other_problem, kind=LinkKind.PROBLEM, actor=agent_actor)
    assert info.value.code == "problem_of_problem"
    # an incident belongs to one problem: linking it elsewhere moves it
    ticket_link(source=other_problem, target=incident, kind=LinkKind.PROBLEM, actor=agent_actor)
    assert Ticket.objects.get(pk=incident.pk).problem_id == other_problem.pk
    assert list(TicketLink.objects.values_list("source_id", flat=True)) == [other_problem.pk]


def test_solving_a_problem_solves_its_incidents(customer, agent, delivered_events,
                                                django_capture_on_commit_callbacks):
    from atende.tickets.tests.factories import CustomFieldFactory

    actor = Actor.for_user(agent)
    problem = make_ticket(requester=customer, type=TicketType.PROBLEM)
    incidents = [make_ticket(requester=CustomerFactory(), type=TicketType.INCIDENT) for _ in range(3)]
    for incident in incidents:
        ticket_link(source=problem, target=incident, kind=LinkKind.PROBLEM, actor=actor)
    drive_to(incidents[1], TicketStatus.PENDING)
    drive_to(incidents[2], TicketStatus.CLOSED)
    unrelated = make_ticket(requester=customer, type=TicketType.INCIDENT)
    # an incident's own "required to solve" field does not block: the analysis lives on the problem
    CustomFieldFactory(key="component", label="Component", required_to_solve=True)
    ticket_transition(ticket=problem, to=TicketStatus.OPEN, actor=actor)
    ticket_update(ticket=problem, actor=actor, changes={"custom_fields": {"component": "smtp"}})

    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(ticket=problem, to=TicketStatus.SOLVED, actor=actor,
                          resolution_summary="Added a second mail relay.")

    for incident, before in zip(incidents[:2], ["new", "pending"], strict=True):
        row = Ticket.objects.get(pk=incident.pk)
        assert row.status == TicketStatus.SOLVED
        assert row.resolution_summary == "Added a second mail relay."
        status = event_rows(incident, TicketEventType.STATUS_CHANGED)[-1]
        assert status.data["old"] == before and status.data["reason"] == "problem_solved"
        assert status.actor_user == agent
    assert Ticket.objects.get(pk=incidents[2].pk).status == TicketStatus.CLOSED
    assert Ticket.objects.get(pk=unrelated.pk).status == TicketStatus.NEW
    solved_ids = [p["ticket_id"] for p in delivered_events if p["type"] == "STATUS_CHANGED"]
    assert solved_ids == [problem.pk, incidents[0].pk, incidents[1].pk]


def test_merging_a_problem_hands_its_incidents_to_the_target_problem(customer, agent_actor):
    problem = make_ticket(requester=customer, type=TicketType.PROBLEM)
    duplicate = make_ticket(requester=customer, type=TicketType.PROBLEM)
    incident = make_ticket(requester=customer, type=TicketType.INCIDENT)
    ticket_link(source=duplicate, target=incident, kind=LinkKind.PROBLEM, actor=agent_actor)
    ticket_merge(source=duplicate, target=problem, actor=agent_actor)
    row = Ticket.objects.get(pk=incident.pk)
    assert row.status == TicketStatus.NEW  # closing the merged problem did not solve it
    assert row.problem_id == problem.pk
    assert TicketLink.objects.filter(source=problem, target=incident, kind=LinkKind.PROBLEM).exists()


def test_spam_closes_the_ticket_and_records_why(ticket, agent, delivered_events,
                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket_mark_spam(ticket=ticket, actor=Actor.for_user(agent))
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.is_spam and row.status == TicketStatus.CLOSED
    (spam,) = event_rows(ticket, TicketEventType.MARKED_SPAM)
    assert spam.data == {"requester": ticket.requester_id} and spam.actor_user == agent
    assert [(e.data["old"], e.data["new"], e.data["reason"]) for e in event_rows(ticket, "STATUS_CHANGED")] == [
        ("new", "solved", "spam"), ("solved", "closed", "spam")]
    assert [p["type"] for p in delivered_events] == ["MARKED_SPAM", "STATUS_CHANGED", "STATUS_CHANGED"]
    with pytest.raises(Conflict):
        ticket_mark_spam(ticket=ticket, actor=Actor.for_user(agent))


def test_customers_cannot_mark_spam(ticket, customer):
    with pytest.raises(PermissionDenied):
        ticket_mark_spam(ticket=ticket, actor=Actor.for_user(customer))
    assert not Ticket.objects.get(pk=ticket.pk).is_spam
