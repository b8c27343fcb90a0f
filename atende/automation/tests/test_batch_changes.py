"""Triggers that change tickets (fields, team, tags, notes, status) are applied set-wise: a batch of events
costs the same statements whatever the number of tickets changed, and the tickets and their history hold what
the one-ticket-at-a-time path wrote: the same events, in the same order, with the same data and attribution."""

import pytest

from atende.automation.models import RuleRun
from atende.automation.services.definitions import rule_save
from atende.automation.services.engine import _routing_rules
from atende.core.actor import Actor
from atende.core.exceptions import Conflict
from atende.tickets.choices import TicketEventType as E
from atende.tickets.models import Message, Ticket, TicketEvent
from atende.tickets.services import TicketChanges, ticket_update
from atende.tickets.tests.factories import make_ticket

from .test_batches import payloads, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def changing_rules(team):
    """A first trigger changing priority, team, tags, adding a note and moving the status; a second one reading
    the tag the first added (so it must see the first's change within the batch)."""
    rule_save(kind="trigger", name="Outage", events=["created"], conditions={"any": [
        {"field": "subject", "op": "contains_any_words", "value": "fails outage"}]}, actions=[
        {"type": "set_priority", "value": "high"}, {"type": "set_team", "value": team.pk},
        {"type": "add_tags", "value": ["incident"]},
        {"type": "add_note", "body": "Outage on #{{ ticket.number }}"},
        {"type": "set_status", "value": "open"}])
    rule_save(kind="trigger", name="Incident type", events=["created"], conditions={"all": [
        {"field": "tags", "op": "includes_any", "value": ["incident"]}]}, actions=[
        {"type": "set_type", "value": "incident"}])


def batch(count, customer):
    tickets = [make_ticket(requester=customer, subject=f"Export fails {i}") for i in range(count)]
    return tickets, payloads(tickets)


def test_twenty_tickets_changed_by_triggers_cost_the_queries_of_two(changing_rules, customer):
    few, few_events = batch(2, customer)
    many, many_events = batch(20, customer)
    _routing_rules()  # the process copy of the (unchanged) routing rules, as a running worker has it
    assert run(many_events) == run(few_events)
    for ticket in Ticket.objects.filter(pk__in=[t.pk for t in few + many]):
        assert (ticket.priority, ticket.status, ticket.type) == ("high", "open", "incident")
        assert set(ticket.tags.values_list("name", flat=True)) == {"incident"}


def test_history_is_what_the_one_ticket_path_writes(changing_rules, customer, team):
    tickets, events = batch(2, customer)
    versions = [t.version for t in tickets]
    run(events)
    for ticket, version in zip(tickets, versions, strict=True):
        created = TicketEvent.objects.get(ticket=ticket, type=E.TICKET_CREATED)
        note = Message.objects.get(ticket=ticket, kind="note")
        assert note.body_text == f"Outage on #{ticket.number}" and note.author_kind == "automation"
        assert note.metadata["automation"]["name"] == "Outage"
        rows = list(TicketEvent.objects.filter(ticket=ticket).exclude(pk=created.pk).order_by("id")
                    .values_list("type", "actor_kind", "actor_user_id", "source_event_id", "data"))
        assert rows == [
            (E.PRIORITY_CHANGED, "automation", None, created.pk, {"old": "normal", "new": "high", "manual": True}),
            (E.TEAM_CHANGED, "automation", None, created.pk,
             {"old": None, "new": {"id": team.pk, "name": str(team)}, "reason": "trigger"}),
            (E.TAGS_CHANGED, "automation", None, created.pk, {"added": ["incident"], "removed": [], "new": ["incident"]}),
            (E.NOTE_ADDED, "automation", None, created.pk, {"message_id": note.pk, "mentions": [], "attachments": []}),
            (E.STATUS_CHANGED, "automation", None, created.pk,
             {"old": "new", "new": "open", "reason": "trigger", "reopened": False}),
            (E.FIELDS_CHANGED, "automation", None, created.pk, {"old": {"type": "question"}, "new": {"type": "incident"}}),
        ]
        ticket.refresh_from_db()
        assert ticket.version == version + 6  # one per change, as each service call bumps it
        assert ticket.team_id == team.pk and ticket.status_changed_at is not None
    assert RuleRun.objects.filter(kind="trigger", status="applied").count() == 4


def test_a_failing_trigger_leaves_nothing_and_later_triggers_see_the_ticket_as_it_was(customer):
    rule_save(kind="trigger", name="Close at once", events=["created"], conditions={}, actions=[
        {"type": "set_priority", "value": "urgent"}, {"type": "set_status", "value": "closed"}])  # new -> closed: refused
    rule_save(kind="trigger", name="Still normal", events=["created"], conditions={"all": [
        {"field": "priority", "op": "is", "value": "normal"}]}, actions=[{"type": "add_tags", "value": ["normal"]}])
    tickets, events = batch(2, customer)
    run(events)
    for ticket in tickets:
        ticket.refresh_from_db()
        assert (ticket.priority, ticket.status) == ("normal", "new")
        assert set(ticket.tags.values_list("name", flat=True)) == {"normal"}
        assert not TicketEvent.objects.filter(ticket=ticket, type=E.PRIORITY_CHANGED).exists()
        failed = RuleRun.objects.get(ticket=ticket, status="failed")
        assert "cannot move" in failed.detail


def test_a_reply_trigger_after_a_staged_one_sees_its_changes(customer):
    rule_save(kind="trigger", name="Tag", events=["created"], conditions={}, actions=[
        {"type": "add_tags", "value": ["seen"]}, {"type": "set_priority", "value": "high"}])
    rule_save(kind="trigger", name="Answer tagged", events=["created"], conditions={"all": [
        {"field": "tags", "op": "includes_any", "value": ["seen"]}]}, actions=[
        {"type": "reply", "body": "Priority {{ ticket.priority }}"}])
    tickets, events = batch(2, customer)
    run(events)
    for ticket in tickets:
        reply = Message.objects.get(ticket=ticket, kind="reply", metadata__automation__name="Answer tagged")
        assert reply.body_text == "Priority High"
        types = list(TicketEvent.objects.filter(ticket=ticket, actor_kind="automation").order_by("id")
                     .values_list("type", flat=True))
        assert types[:3] == [E.PRIORITY_CHANGED, E.TAGS_CHANGED, E.REPLY_ADDED]


def test_a_ticket_changed_meanwhile_is_not_overwritten(customer, agent):
    ticket = make_ticket(requester=customer)
    read = Ticket.objects.get(pk=ticket.pk)  # a batch's unlocked copy
    ticket_update(ticket=ticket, actor=Actor.for_user(agent), changes={"priority": "low"})
    staged = TicketChanges(tickets=[read])
    staged.update(read, actor=Actor.automation(source_event_id=None), changes={"priority": "urgent"})
    with pytest.raises(Conflict):
        staged.save()
    assert Ticket.objects.get(pk=ticket.pk).priority == "low"


def test_tags_written_by_routing_in_the_batch_are_seen_by_later_triggers(customer):
    rule_save(kind="routing", name="Route", conditions={}, actions=[{"type": "add_tags", "value": ["routed"]}])
    rule_save(kind="trigger", name="Seen", events=["created"], conditions={}, actions=[
        {"type": "add_tags", "value": ["seen"]}])
    rule_save(kind="trigger", name="Routed is high", events=["created"], conditions={"all": [
        {"field": "tags", "op": "includes_any", "value": ["routed"]}]}, actions=[{"type": "set_priority", "value": "high"}])
    tickets, events = batch(3, customer)
    run(events)
    for ticket in tickets:
        ticket.refresh_from_db()
        assert set(ticket.tags.values_list("name", flat=True)) == {"routed", "seen"}
        assert ticket.priority == "high"
        seen = TicketEvent.objects.get(ticket=ticket, type=E.TAGS_CHANGED, data__added=["seen"])
        assert seen.data == {"added": ["seen"], "removed": [], "new": ["routed", "seen"]}


def test_a_trigger_does_not_fire_again_on_an_event_it_caused_within_the_same_batch(customer):
    from atende.tickets.services import ticket_set_tags

    rule = rule_save(kind="trigger", name="Note once", events=["created", "tags_changed"], conditions={}, actions=[
        {"type": "add_note", "body": "Noted"}])
    ticket = make_ticket(requester=customer)
    created = TicketEvent.objects.get(ticket=ticket, type=E.TICKET_CREATED)
    # An event caused by the creation (as another subscriber's automation writes it), in the same batch.
    ticket_set_tags(ticket=ticket, actor=Actor.automation(source_event_id=created.pk), add=["triaged"])
    run(payloads([ticket]))
    assert Message.objects.filter(ticket=ticket, kind="note", body_text="Noted").count() == 1
    assert list(RuleRun.objects.filter(rule_id=rule.pk).values_list("event_id", flat=True)) == [created.pk]
