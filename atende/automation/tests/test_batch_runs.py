"""The runs a batch records (one INSERT, built without the ORM's per-value layers) and what it reads once per
batch (causes, earlier runs, time-rule schedules): a batch mixing matched and unmatched tickets, staged, sending
and failing triggers and events caused by triggers stores what its events handled one at a time store."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from atende.automation.models import RuleRun, TimeRuleSchedule
from atende.automation.services.definitions import rule_save
from atende.outbound.models import Delivery
from atende.tickets.models import Ticket, TicketEvent
from atende.tickets.tests.factories import make_ticket

from .test_batches import payloads, run

pytestmark = pytest.mark.django_db


def stored(tickets) -> dict:
    """What the batch wrote for ``tickets``; events named by (ticket, type, rank), as ids differ from run to run
    where a sequence is not rolled back with the rest (PostgreSQL)."""
    ids = [t.pk for t in tickets]
    events = list(TicketEvent.objects.filter(ticket_id__in=ids).order_by("id").values_list(
        "id", "ticket_id", "type", "source_event_id"))
    ranks: dict = {}
    name = {}
    for pk, ticket_id, kind, _source in events:
        ranks[ticket_id, kind] = ranks.get((ticket_id, kind), 0) + 1
        name[pk] = (ticket_id, kind, ranks[ticket_id, kind])
    return {
        "runs": sorted((kind, rule_id, name.get(event_id, event_id), ticket_id, status, detail)
                       for kind, rule_id, event_id, ticket_id, status, detail in RuleRun.objects.filter(
                           ticket_id__in=ids).values_list("kind", "rule_id", "event_id", "ticket_id", "status",
                                                          "detail")),
        "tickets": list(Ticket.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "priority", "status")),
        "tags": sorted(Ticket.tags.through.objects.filter(ticket_id__in=ids).values_list("ticket_id", "tag__name")),
        "events": sorted((name[pk], name.get(source)) for pk, _t, _k, source in events),
        "deliveries": sorted(Delivery.objects.filter(ticket_id__in=ids).values_list("ticket_id", "transport",
                                                                                   "target")),
        "schedules": sorted(TimeRuleSchedule.objects.filter(ticket_id__in=ids).values_list(
            "ticket_id", "rule_id", "anchor_at", "due_at", "fired_at")),
    }


def test_a_mixed_batch_stores_what_its_events_one_at_a_time_store(settings, customer):
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    rule_save(kind="trigger", name="Outage", events=["created"], conditions={"any": [
        {"field": "subject", "op": "contains_any_words", "value": "fails"}]},
        actions=[{"type": "set_priority", "value": "high"}, {"type": "add_tags", "value": ["incident"]}])
    rule_save(kind="trigger", name="Escalated", events=["updated"], conditions={"all": [
        {"field": "priority", "op": "is", "value": "high"}]}, actions=[{"type": "add_tags", "value": ["escalated"]}])
    rule_save(kind="trigger", name="Close billing at once", events=["created"], conditions={"any": [
        {"field": "subject", "op": "contains_any_words", "value": "invoice"}]},
        actions=[{"type": "set_status", "value": "closed"}])  # new -> closed is refused: a failed run
    rule_save(kind="trigger", name="Acknowledge", events=["created"], conditions={}, actions=[
        {"type": "send_email", "to": "requester", "subject": "We got it: {{ ticket.number }}", "body": "Thanks."}])
    rule_save(kind="time_rule", name="Stale new", anchor="created_at", hours=48,
              conditions={"all": [{"field": "status", "op": "is", "value": "new"}]},
              actions=[{"type": "add_tags", "value": ["stale"]}])
    tickets = [make_ticket(requester=customer, subject=subject)
               for subject in ("Export fails", "Wrong invoice", "A question", "Login fails")]
    first = payloads(tickets)

    with transaction.atomic():
        point = transaction.savepoint()
        with CaptureQueriesContext(connection) as ctx:
            run(first)
        run(payloads(tickets)[len(first):])  # the events the first batch caused, in a batch of their own
        together = stored(tickets)
        transaction.savepoint_rollback(point)
    for payload in first:
        run([payload])
    for payload in payloads(tickets)[len(first):]:
        run([payload])
    assert together == stored(tickets)

    inserts = [q for q in ctx.captured_queries if q["sql"].startswith('INSERT INTO "automation_rulerun"')]
    assert len(inserts) == 1  # every run of the batch in one statement
    runs = {(kind, ticket_id, status) for kind, _rule, _event, ticket_id, status, _detail in together["runs"]}
    export, invoice, question, login = (t.pk for t in tickets)
    assert {("trigger", t, "applied") for t in (export, invoice, question, login)} <= runs
    assert ("trigger", invoice, "failed") in runs and ("trigger", question, "failed") not in runs
    assert [d for _k, _r, _e, t, s, d in together["runs"] if t == invoice and s == "failed"][0]
    tags = {(t, name) for t, name in together["tags"]}
    assert {(export, "incident"), (export, "escalated"), (login, "escalated")} <= tags
    assert not any(t in (invoice, question) for t, _name in tags)
    assert {t for t, _k, _target in together["deliveries"]} == {export, invoice, question, login}
    assert {t for t, *_rest in together["schedules"]} == {export, invoice, question, login}
    before = stored(tickets)
    run(payloads(tickets))  # delivered again: nothing more
    assert stored(tickets) == before
