"""The triggers subscriber works set-wise: a batch's tickets are read once with what the rules look at, rules are
evaluated in memory, and only the tickets a rule matches go through the write path; a ticket changed by a rule is
read again, so its later rules and events see the change."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.automation.models import RuleRun, TimeRuleSchedule
from atende.automation.services.definitions import rule_save
from atende.automation.subscribers import automation_on_events
from atende.core.actor import Actor
from atende.core.memo import batch_scope
from atende.core.outbox.dispatch import payload_of
from atende.tickets.models import TicketEvent
from atende.tickets.services import ticket_update
from atende.tickets.tests.factories import CustomFieldFactory, make_ticket

pytestmark = pytest.mark.django_db

FIELDS = ("id", "type", "ticket_id", "actor_kind", "actor_user_id", "source_event_id", "data", "created_at")


def payloads(tickets):
    """The tickets' events as the dispatcher hands them to the subscriber, in stream order."""
    return [payload_of(row) for row in
            TicketEvent.objects.filter(ticket__in=tickets).order_by("id").values(*FIELDS)]


def run(events):
    with batch_scope(), CaptureQueriesContext(connection) as ctx:
        automation_on_events(events)
    return len(ctx.captured_queries)


@pytest.fixture
def rules(db):
    """Rules reading every kind of field a ticket's context loads (requester, tags, first message, the event's
    message, custom fields); exactly one ticket per batch matches the trigger."""
    CustomFieldFactory(key="plan")
    rule_save(kind="routing", name="Zebras", conditions={"any": [
        {"field": "body", "op": "contains_any_words", "value": "zebra"},
        {"field": "sender_domain", "op": "is", "value": "zebra.example"},
        {"field": "tags", "op": "includes_any", "value": ["zebra"]},
        {"field": "custom_fields.plan", "op": "is", "value": "zebra"}]},
        actions=[{"type": "set_priority", "value": "low"}])
    rule_save(kind="trigger", name="Urgent words", events=["created"], conditions={"all": [
        {"field": "message", "op": "contains_any_words", "value": "urgent"},
        {"field": "status_category", "op": "is", "value": "open"}]},
        actions=[{"type": "add_tags", "value": ["urgent"]}])
    rule_save(kind="trigger", name="Never", events=["created", "updated"], conditions={"all": [
        {"field": "priority", "op": "is", "value": "urgent"}, {"field": "tags", "op": "includes_any",
                                                                "value": ["never"]}]},
        actions=[{"type": "set_priority", "value": "low"}])
    rule_save(kind="time_rule", name="Stale new", anchor="created_at", hours=48,
              conditions={"all": [{"field": "status", "op": "is", "value": "new"}]},
              actions=[{"type": "add_tags", "value": ["stale"]}])


def batch(count, customer):
    tickets = [make_ticket(requester=customer, body="This is urgent!" if i == 0 else "The printer jams.")
               for i in range(count)]
    return tickets, payloads(tickets)


def test_a_batch_of_twenty_costs_the_queries_of_a_batch_of_two(rules, customer):
    few, few_events = batch(2, customer)
    many, many_events = batch(20, customer)
    assert run(many_events) == run(few_events)
    for tickets in (few, many):
        tags = {t.pk: set(t.tags.values_list("name", flat=True)) for t in tickets}
        assert tags[tickets[0].pk] == {"urgent"} and all(not tags[t.pk] for t in tickets[1:])
        assert TimeRuleSchedule.objects.filter(ticket__in=tickets).count() == len(tickets)
        assert all(t.priority != "low" for t in type(tickets[0]).objects.filter(pk__in=[t.pk for t in tickets]))


def test_a_later_event_of_the_batch_sees_what_a_rule_changed(customer):
    rule_save(kind="trigger", name="Mark", events=["created"], conditions={},
              actions=[{"type": "add_tags", "value": ["marked"]}])
    rule_save(kind="trigger", name="Marked and raised", events=["priority_changed"], conditions={"all": [
        {"field": "tags", "op": "includes_any", "value": ["marked"]}]},
        actions=[{"type": "add_note", "body": "Raised on a marked ticket"}])
    ticket = make_ticket(requester=customer)
    ticket_update(ticket=ticket, actor=Actor.system(), changes={"priority": "high"})
    run(payloads([ticket]))  # created and priority changed in one batch: the tag is added by the first
    assert ticket.messages.filter(kind="note", body_text="Raised on a marked ticket").exists()


def test_a_batch_delivered_again_changes_nothing(rules, customer):
    tickets, events = batch(3, customer)
    run(events)
    runs, tags = RuleRun.objects.count(), sorted(t.tags.count() for t in tickets)
    run(events)
    assert RuleRun.objects.count() == runs and sorted(t.tags.count() for t in tickets) == tags


@pytest.fixture
def sending_rules(rules):
    """The peak run's kind of desk: besides the rules above, a mail to every new requester and a webhook call."""
    rule_save(kind="trigger", name="Acknowledge", events=["created"], conditions={}, actions=[
        {"type": "send_email", "to": "requester", "subject": "We got it: {{ ticket.number }}", "body": "Thanks."}])
    rule_save(kind="trigger", name="Tell the CRM", events=["created"], conditions={}, actions=[
        {"type": "webhook", "url": "https://crm.example/hook", "secret": "s"}])


def test_triggers_that_send_cost_the_same_for_twenty_tickets_as_for_two(sending_rules, customer):
    from atende.outbound.models import Delivery

    few, few_events = batch(2, customer)
    many, many_events = batch(20, customer)
    assert run(many_events) == run(few_events)
    for tickets in (few, many):
        ids = {t.pk for t in tickets}
        mails = Delivery.objects.filter(transport="mail", source="automation", ticket_id__in=ids)
        assert sorted(mails.values_list("ticket_id", flat=True)) == sorted(ids)
        assert {(d.ticket_id, d.payload["subject"], d.target) for d in mails} == {
            (t.pk, f"We got it: {t.number}", customer.email) for t in tickets}
        hooks = Delivery.objects.filter(transport="webhook", source="automation", ticket_id__in=ids)
        assert sorted(h.payload["body"]["ticket"]["id"] for h in hooks) == sorted(ids)
        assert {h.target for h in hooks} == {"https://crm.example/hook"}
        # the rules that change the ticket still went through the write path
        tags = {t.pk: set(t.tags.values_list("name", flat=True)) for t in tickets}
        assert tags[tickets[0].pk] == {"urgent"} and all(not tags[t.pk] for t in tickets[1:])
        assert RuleRun.objects.filter(kind="trigger", ticket__in=tickets).count() == 2 * len(tickets) + 1


def test_a_sending_batch_delivered_again_queues_nothing_more(sending_rules, customer):
    from atende.outbound.models import Delivery

    tickets, events = batch(3, customer)
    run(events)
    counts = (Delivery.objects.count(), RuleRun.objects.count())
    run(events)
    RuleRun.objects.filter(kind="trigger").delete()  # even without the run rows, the delivery keys hold
    run(events)
    assert Delivery.objects.count() == counts[0]
    assert Delivery.objects.filter(source="automation").count() == 2 * len(tickets)


def test_a_trigger_that_sends_and_changes_the_ticket_goes_through_the_write_path(customer):
    from atende.outbound.models import Delivery

    rule_save(kind="trigger", name="Tag and tell", events=["created"], conditions={}, actions=[
        {"type": "add_tags", "value": ["told"]},
        {"type": "send_email", "to": "requester", "subject": "Told #{{ ticket.number }}", "body": "Hi"}])
    tickets, events = batch(2, customer)
    run(events)
    run(events)
    for ticket in tickets:
        assert set(ticket.tags.values_list("name", flat=True)) == {"told"}
        (mail,) = Delivery.objects.filter(transport="mail", source="automation", ticket_id=ticket.pk)
        assert mail.payload["subject"] == f"Told #{ticket.number}"
