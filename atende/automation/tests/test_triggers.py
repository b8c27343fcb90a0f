"""Triggers on real ticket events: every action, ordering, once per event, loop protection, failing deliveries."""

import json

import pytest
from django.utils import timezone

from atende.automation.models import RuleRun
from atende.automation.services.definitions import rule_save
from atende.automation.services.engine import triggers_run
from atende.core.actor import Actor
from atende.core.exceptions import ValidationError
from atende.integrations.signing import webhook_signature_verify
from atende.outbound.choices import DeliveryStatus
from atende.outbound.models import Delivery
from atende.outbound.services import deliveries_drain
from atende.tickets.choices import TicketEventType as E
from atende.tickets.models import Message, TicketEvent
from atende.tickets.services import message_add_reply, ticket_set_tags, ticket_transition, ticket_update
from atende.tickets.tests.factories import CategoryFactory, CustomFieldFactory

pytestmark = pytest.mark.django_db


def trigger(name, events, actions, conditions=None):
    return rule_save(kind="trigger", name=name, events=events, conditions=conditions or {}, actions=actions)


def test_created_trigger_applies_field_tag_and_note_actions(create_ticket, team, agent):
    category = CategoryFactory()
    CustomFieldFactory(key="source")
    trigger("Refunds", ["created"], [
        {"type": "set_priority", "value": "urgent"}, {"type": "set_type", "value": "incident"},
        {"type": "set_category", "value": category.pk}, {"type": "set_team", "value": team.pk},
        {"type": "set_assignee", "value": agent.pk}, {"type": "add_tags", "value": ["refund", "vip"]},
        {"type": "set_custom_field", "key": "source", "value": "trigger"},
        {"type": "add_note", "body": "Refund request from {{requester.first_name}} (#{{ticket.number}})"},
    ], conditions={"any": [{"field": "subject", "op": "contains_any_words", "value": "refund reembolso"}]})
    ticket = create_ticket(subject="Quero reembolso", body="please")
    assert (ticket.priority, ticket.type, ticket.category_id, ticket.team_id, ticket.assignee_id) == (
        "urgent", "incident", category.pk, team.pk, agent.pk)
    assert ticket.custom_fields["source"] == "trigger"
    assert set(ticket.tags.values_list("name", flat=True)) == {"refund", "vip"}
    note = Message.objects.get(ticket=ticket, kind="note")
    assert note.body_text == f"Refund request from {ticket.requester.first_name} (#{ticket.number})"
    created = TicketEvent.objects.get(ticket=ticket, type=E.TICKET_CREATED)
    changes = TicketEvent.objects.filter(ticket=ticket, actor_kind="automation")
    assert changes.exists() and all(e.source_event_id == created.pk for e in changes)
    other = create_ticket(subject="Printer jam", body="x")
    assert other.priority == "normal"


def test_triggers_run_in_order_and_see_earlier_changes(create_ticket):
    trigger("First", ["created"], [{"type": "add_tags", "value": ["stage-one"]}])
    trigger("Second", ["created"], [{"type": "set_priority", "value": "high"}],
            conditions={"all": [{"field": "tags", "op": "includes_any", "value": ["stage-one"]}]})
    ticket = create_ticket()
    assert ticket.priority == "high"
    runs = list(RuleRun.objects.filter(kind="trigger").order_by("id").values_list("rule_id", flat=True))
    assert len(runs) == 2 and runs == sorted(runs)


def test_a_trigger_fires_once_per_event_even_if_delivered_twice(create_ticket):
    rule = trigger("Tag", ["created"], [{"type": "add_note", "body": "hello"}])
    ticket = create_ticket()
    payload = TicketEvent.objects.get(ticket=ticket, type=E.TICKET_CREATED)
    again = {"type": payload.type, "event_id": payload.pk, "ticket_id": ticket.pk, "actor_kind": "customer",
             "source_event_id": None, "data": payload.data}
    assert triggers_run(again) == []
    assert Message.objects.filter(ticket=ticket, kind="note").count() == 1
    assert RuleRun.objects.filter(kind="trigger", rule_id=rule.pk).count() == 1


def test_two_triggers_feeding_each_other_do_not_loop(create_ticket, agent, run_events):
    # A: a tag change adds "ping"; B: a tag change adds "pong". Each may react to the other once, never to itself.
    a = trigger("Ping", ["tags_changed"], [{"type": "add_note", "body": "ping"}, {"type": "add_tags", "value": ["ping"]}])
    b = trigger("Pong", ["tags_changed"], [{"type": "add_note", "body": "pong"}, {"type": "add_tags", "value": ["pong"]}])
    ticket = create_ticket()
    with run_events():
        ticket_set_tags(ticket=ticket, actor=Actor.for_user(agent), add=["start"])
    notes = list(Message.objects.filter(ticket=ticket, kind="note").values_list("body_text", flat=True))
    assert sorted(notes) == ["ping", "pong"]
    assert RuleRun.objects.filter(kind="trigger", rule_id=a.pk).count() == 1
    assert RuleRun.objects.filter(kind="trigger", rule_id=b.pk).count() == 1


def test_a_trigger_never_reacts_to_its_own_change(create_ticket, agent, run_events):
    trigger("Bump", ["updated"], [{"type": "raise_priority"}])
    ticket = create_ticket()
    with run_events():
        ticket_update(ticket=ticket, actor=Actor.for_user(agent), changes={"subject": "New subject"})
    ticket.refresh_from_db()
    assert ticket.priority == "high"  # raised once, not up to urgent by reacting to its own PRIORITY_CHANGED


def test_change_conditions_and_reply_events(create_ticket, agent, customer, run_events):
    trigger("Reopened", ["status_changed"], [{"type": "add_tags", "value": ["reopened"]}],
            conditions={"all": [{"field": "status", "op": "changed_from", "value": "solved"}]})
    trigger("Customer wrote", ["customer_replied"], [{"type": "add_tags", "value": ["customer-wrote"]}])
    trigger("Agent wrote", ["agent_replied"], [{"type": "add_tags", "value": ["agent-wrote"]}],
            conditions={"all": [{"field": "actor_kind", "op": "is", "value": "agent"}]})
    ticket = create_ticket()
    with run_events():
        message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="Fixed")
        ticket_transition(ticket=ticket, to="solved", actor=Actor.for_user(agent))
    assert set(ticket.tags.values_list("name", flat=True)) == {"agent-wrote"}
    with run_events():
        message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Not fixed")
    assert set(ticket.tags.values_list("name", flat=True)) == {"agent-wrote", "customer-wrote", "reopened"}


def test_reply_and_status_actions(create_ticket):
    trigger("Auto answer", ["created"], [
        {"type": "reply", "body": "Hi {{requester.first_name}}, we got #{{ticket.number}}."},
        {"type": "set_status", "value": "pending"}])
    ticket = create_ticket()
    reply = Message.objects.filter(ticket=ticket, kind="reply").order_by("id").last()
    assert reply.author_kind == "agent" and reply.author is None
    assert reply.body_text == f"Hi {ticket.requester.first_name}, we got #{ticket.number}."
    assert ticket.status == "pending"


def test_email_action_is_mailed_through_smtp_after_commit(create_ticket, smtp_capture):
    trigger("Tell requester", ["created"], [{"type": "send_email", "to": "requester",
                                             "subject": "We got #{{ticket.number}}", "body": "Hello {{requester.name}}"}])
    ticket = create_ticket()
    [sent] = [m for m in smtp_capture.received if m.message["Subject"] == f"We got #{ticket.number}"]
    assert sent.rcpt_tos == [ticket.requester.email]
    assert sent.message["Auto-Submitted"] == "auto-generated"
    assert sent.message.get_payload(decode=True).decode().strip() == f"Hello {ticket.requester.name}"
    delivery = Delivery.objects.get(ticket_id=ticket.pk, source="automation")
    assert (delivery.transport, delivery.status, delivery.attempts) == ("mail", DeliveryStatus.SENT, 1)
    assert sent.message["Message-ID"] == delivery.external_id


def test_failing_email_is_recorded_retried_and_does_not_block_the_update(create_ticket, smtp_capture):
    trigger("Notify", ["created"], [{"type": "send_email", "to": "requester", "subject": "Hi", "body": "x"}])
    smtp_capture.refuse = True  # the mail server answers 451
    ticket = create_ticket(subject="Mail server down")
    assert ticket.pk and ticket.subject == "Mail server down"  # the ticket exists regardless
    delivery = Delivery.objects.get(ticket_id=ticket.pk, source="automation")
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1 and "451" in delivery.last_error
    smtp_capture.refuse = False
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert deliveries_drain() >= 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    assert [m.message["Subject"] for m in smtp_capture.received if m.message["Subject"] == "Hi"] == ["Hi"]


def test_webhook_action_posts_signed_as_documented_to_a_real_receiver(create_ticket, receiver):
    trigger("Hook", ["created"], [{"type": "webhook", "url": receiver.url, "secret": "s3cret"}])
    ticket = create_ticket()
    delivery = Delivery.objects.get(ticket_id=ticket.pk, source="automation")
    assert (delivery.transport, delivery.status) == ("webhook", DeliveryStatus.SENT)
    [request] = receiver.requests
    signature = request.headers["X-Atende-Signature"]
    assert signature.startswith("t=") and ",v1=" in signature  # the one format docs/webhooks.md describes
    assert webhook_signature_verify("s3cret", signature, request.body)
    body = json.loads(request.body)
    assert body["ticket"]["number"] == ticket.number and body["origin"]["name"] == "Hook"


def test_webhook_action_without_secret_is_sent_unsigned(create_ticket, receiver):
    trigger("Hook", ["created"], [{"type": "webhook", "url": receiver.url}])
    create_ticket()
    [request] = receiver.requests
    assert "X-Atende-Signature" not in request.headers


def test_failing_ticket_action_is_recorded_not_raised(create_ticket):
    rule = trigger("Close at once", ["created"], [{"type": "set_status", "value": "closed"}])  # new→closed not allowed
    ticket = create_ticket()
    run = RuleRun.objects.get(kind="trigger", rule_id=rule.pk)
    assert run.status == "failed" and "cannot move" in run.detail
    assert ticket.status == "new"


@pytest.mark.parametrize("actions,message", [
    ([{"type": "explode"}], "unknown action “explode”"),
    ([{"type": "set_priority", "value": "extreme"}], "“extreme” is not a valid priority"),
    ([{"type": "set_team", "value": 424242}], "no team with id 424242"),
    ([{"type": "send_email", "to": "nobody", "subject": "x", "body": "y"}], "“to” must be requester"),
    ([{"type": "add_note", "body": "Hi {{ticket.secret}}"}], "unknown placeholder ticket.secret"),
    ([{"type": "webhook", "url": "ftp://x"}], "must start with http"),
    ([{"type": "set_status", "value": "new"}], "cannot be moved back to new"),
    ([], "at least one action"),
])
def test_invalid_actions_are_refused_at_save_time(db, actions, message):
    with pytest.raises(ValidationError) as exc:
        trigger("Bad", ["created"], actions)
    assert message in str(exc.value)


def test_unknown_trigger_event_is_refused(db):
    with pytest.raises(ValidationError, match="Unknown trigger events"):
        trigger("Bad", ["exploded"], [{"type": "raise_priority"}])
