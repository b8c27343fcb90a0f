"""The three busy subscribers on a batch mixing many tickets and every kind of event they act on (creation, agent
and customer replies, priority, assignee, note with a mention, tags, pending, solved): the SLA clocks, the
triggers' effects and the mails are those the same events give handled one at a time, and each subscriber's
statements for the batch do not grow with its tickets. Events that call for nothing in a subscriber are not
handed to it at all."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.accounts.tests.factories import CustomerFactory
from atende.automation.models import RuleRun
from atende.automation.services.definitions import rule_save
from atende.automation.services.engine import _routing_rules
from atende.automation.subscribers import automation_on_events
from atende.core.actor import Actor
from atende.core.events import handled_types, subscriber_named
from atende.core.memo import batch_scope
from atende.core.models import SiteConfiguration
from atende.core.outbox.dispatch import PAYLOAD_FIELDS, known_types, payload_of
from atende.email_channel.models import EmailSettings
from atende.email_channel.subscribers import notify_on_events
from atende.outbound.models import Delivery
from atende.sla.models import SlaClock
from atende.sla.subscribers import sla_on_events
from atende.sla.tests.conftest import fast_policy  # noqa: F401 - fixture
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.services import (
    IncomingFile,
    message_add_note,
    message_add_reply,
    ticket_assign,
    ticket_set_tags,
    ticket_transition,
    ticket_update,
)
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

# In the dispatcher's order: notifications run after SLA.
SUBSCRIBERS = (("sla", sla_on_events), ("triggers", automation_on_events), ("notifications", notify_on_events))


@pytest.fixture
def desk(settings, fast_policy, team, agent, other_agent, mailbox):  # noqa: F811 - fixture
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    EmailSettings.load(), SiteConfiguration.load()  # the settings rows exist (a fresh database writes them once)
    rule_save(kind="trigger", name="Hot", events=["created", "updated"], conditions={"all": [
        {"field": "priority", "op": "is", "value": "urgent"}]}, actions=[{"type": "add_tags", "value": ["hot"]}])
    rule_save(kind="trigger", name="Acknowledge", events=["created"], conditions={}, actions=[
        {"type": "send_email", "to": "requester", "subject": "Got #{{ ticket.number }}", "body": "Thanks."}])
    return team, agent, other_agent


def mixed(count, desk):
    """``count`` tickets, each with the same story; returns them and their events in stream order."""
    team, agent, other = desk
    tickets = []
    for i in range(count):
        customer = CustomerFactory()
        ticket = make_ticket(requester=customer, team=team, actor=Actor.system(),
                             priority="high" if i % 2 else "normal")
        message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="We are looking into it.",
                          attachments=[IncomingFile("steps.txt", b"Restart the printer.", "text/plain")])
        message_add_reply(ticket=ticket, actor=Actor.for_user(customer), body_text="Still broken.")
        ticket_update(ticket=ticket, actor=Actor.for_user(agent), changes={"priority": "urgent"})
        ticket_assign(ticket=ticket, actor=Actor.for_user(agent), team=team, assignee=other)
        message_add_note(ticket=ticket, actor=Actor.for_user(agent), body_text=f"@{other.email} have a look")
        ticket_set_tags(ticket=ticket, actor=Actor.for_user(agent), add=["vip"])
        ticket_transition(ticket=ticket, to="pending", actor=Actor.for_user(agent))
        ticket_transition(ticket=ticket, to="solved", actor=Actor.for_user(agent))
        tickets.append(ticket)
    rows = TicketEvent.objects.filter(ticket__in=tickets).order_by("id").values(*PAYLOAD_FIELDS)
    return tickets, [payload_of(row) for row in rows]


def handed(name, payloads):
    """The events the dispatcher hands to the subscriber."""
    types = handled_types(subscriber_named(name), known_types())
    return [p for p in payloads if types is None or p["type"] in types]


def run_batch(payloads) -> dict[str, int]:
    """Each subscriber on the whole batch, as the dispatcher hands it over; its statements counted."""
    queries = {}
    for name, handler in SUBSCRIBERS:
        with batch_scope(), CaptureQueriesContext(connection) as ctx:
            handler(handed(name, payloads))
        queries[name] = len(ctx.captured_queries)
    return queries


def run_one_by_one(payloads) -> None:
    for name, handler in SUBSCRIBERS:
        for payload in handed(name, payloads):
            with batch_scope():
                handler([payload])


def outcome(tickets) -> list[dict]:
    """What a ticket ended with, told apart from its own ids and addresses (so two runs compare)."""
    result = []
    for ticket in Ticket.objects.filter(pk__in=[t.pk for t in tickets]).select_related("requester").order_by("pk"):
        def minutes(at, start=ticket.created_at):
            return None if at is None else round((at - start).total_seconds() / 60)

        def who(address, requester=ticket.requester.email):
            return "requester" if address == requester else address

        clocks = sorted((c.metric, c.cycle, c.state, c.target_minutes, minutes(c.due_at), minutes(c.fulfilled_at))
                        for c in SlaClock.objects.filter(ticket=ticket))
        files = {a.pk: a.filename for a in ticket.attachments.all()}
        mails = sorted((d.kind, who(d.payload["to"][0]), d.payload["subject"].replace(f"#{ticket.number}", "#N"),
                        tuple(files[a] for a in d.payload["attachment_ids"]))
                       for d in Delivery.objects.filter(ticket_id=ticket.pk, transport="mail"))
        result.append({
            "policy": ticket.sla_policy_id, "due": (ticket.first_reply_due_at, ticket.next_reply_due_at,
                                                    ticket.resolution_due_at),
            "clocks": clocks, "tags": sorted(ticket.tags.values_list("name", flat=True)),
            "runs": sorted(RuleRun.objects.filter(ticket=ticket).values_list("kind", "status")),
            "events": sorted(TicketEvent.objects.filter(ticket=ticket, actor_kind__in=("system", "automation"))
                             .values_list("type", flat=True)),
            "mails": mails,
        })
    return result


def test_a_mixed_batch_ends_as_its_events_handled_one_at_a_time(desk, fast_policy, other_agent):  # noqa: F811
    batched, events = mixed(3, desk)
    run_batch(events)
    alone, events_alone = mixed(3, desk)
    run_one_by_one(events_alone)
    differences = [(i, key, sorted(set(one[key]) - set(other[key])), sorted(set(other[key]) - set(one[key])))
                   if isinstance(one[key], list) else (i, key, one[key], other[key])
                   for i, (one, other) in enumerate(zip(outcome(batched), outcome(alone), strict=True))
                   for key in one if one[key] != other[key]]
    assert differences == []
    # What that is: the policy applied, every clock stopped by the solve, the trigger's tag, and the mails.
    (first, *_rest) = outcome(batched)
    assert first["policy"] == fast_policy.pk and first["due"] == (None, None, None)
    assert {state for _m, _c, state, *_ in first["clocks"]} == {"fulfilled"}
    assert {"hot", "vip"} <= set(first["tags"])
    assert {kind for kind, _to, _subject, _files in first["mails"]} >= {
        "agent_reply", "customer_replied", "ticket_assigned", "note_mention", "request_solved"}
    assert any(kind == "customer_replied" and to == other_agent.email for kind, to, _s, _f in first["mails"])
    assert [files for kind, _to, _s, files in first["mails"] if kind == "agent_reply"] == [("steps.txt",)]


def test_a_mixed_batch_of_twelve_tickets_costs_the_statements_of_two(desk):
    _few, few_events = mixed(2, desk)
    many, many_events = mixed(6, desk)
    _routing_rules()  # the process copy of the (unchanged) routing rules, as a running worker has it
    few, many_queries = run_batch(few_events), run_batch(many_events)
    assert many_queries["sla"] == few["sla"] and many_queries["triggers"] == few["triggers"]
    # SQLite takes at most 999 parameters a statement: the six tickets' ~40 mails may take two inserts.
    assert few["notifications"] <= many_queries["notifications"] <= few["notifications"] + 1
    assert Delivery.objects.filter(ticket_id__in=[t.pk for t in many], kind="agent_reply").count() == 6


def test_events_a_subscriber_does_nothing_with_are_not_handed_to_it():
    known = known_types()
    for name in ("sla", "triggers", "notifications"):
        types = handled_types(subscriber_named(name), known)
        assert types is not None and "SLA_APPLIED" not in types and "TICKET_CREATED" in types, name
    assert "TAGS_CHANGED" not in handled_types(subscriber_named("notifications"), known)
    assert "PRIORITY_CHANGED" in handled_types(subscriber_named("sla"), known)

