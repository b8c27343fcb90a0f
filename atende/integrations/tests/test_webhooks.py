"""Webhooks end to end: ticket events → deliveries → signed POSTs to a real HTTP server on loopback."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core import mail
from django.utils import timezone

from atende.core.actor import Actor
from atende.integrations.models import WebhookSubscription
from atende.integrations.services import (
    webhook_deliver_adhoc,
    webhook_delivery_redeliver,
    webhook_subscription_create,
    webhook_subscription_update,
)
from atende.integrations.signing import webhook_signature, webhook_signature_verify
from atende.outbound.choices import DeliveryStatus
from atende.outbound.models import Delivery, DeliveryAttempt
from atende.outbound.services import deliveries_drain
from atende.tickets.services import message_add_reply, ticket_transition
from atende.tickets.tests.factories import make_ticket


@pytest.fixture
def subscription(admin_user, receiver):
    return webhook_subscription_create(actor=Actor.for_user(admin_user), name="CRM", url=receiver.url,
                                       event_types=["ticket.created", "ticket.status_changed", "message.added"])


def _make_due():
    Delivery.objects.filter(status=DeliveryStatus.FAILED, next_attempt_at__isnull=False).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))


def test_ticket_created_is_delivered_signed_after_commit(subscription, receiver, customer,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket = make_ticket(requester=customer, subject="Cannot log in")
        assert receiver.requests == []  # nothing leaves inside the transaction
    with django_capture_on_commit_callbacks(execute=True):  # the worker's transactions commit
        for callback in callbacks:
            callback()

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    body = json.loads(request.body)
    assert body["event"] == "ticket.created"
    assert body["schema_version"] == 1
    assert body["ticket"]["id"] == ticket.pk and body["ticket"]["subject"] == "Cannot log in"
    assert body["ticket"]["requester"]["email"] == customer.email
    assert request.headers["X-Atende-Event"] == "ticket.created"
    assert webhook_signature_verify(subscription.secret, request.headers["X-Atende-Signature"], request.body)
    assert not webhook_signature_verify("wrong-secret", request.headers["X-Atende-Signature"], request.body)
    delivery = Delivery.objects.get(transport="webhook")
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 1 and delivery.last_status_code == 200 and delivery.sent_at
    assert request.headers["X-Atende-Delivery"] == str(delivery.pk) and request.headers["X-Atende-Attempt"] == "1"
    assert delivery.event_id is not None


def test_only_subscribed_events_are_sent(subscription, receiver, ticket, agent,
                                         django_capture_on_commit_callbacks):
    from atende.core.outbox.drain import drain
    from atende.tickets.services import ticket_update

    with django_capture_on_commit_callbacks(execute=True):
        drain(jobs=False)  # the fixture's ticket.created (the subscription existed already): sent
    assert [json.loads(r.body)["event"] for r in receiver.requests] == ["ticket.created"]
    receiver.requests.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_update(ticket=ticket, actor=Actor.for_user(agent), changes={"tags": ["vip"]})  # ticket.updated
    assert receiver.requests == []
    with django_capture_on_commit_callbacks(execute=True):
        message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="On it")
    events = [json.loads(r.body)["event"] for r in receiver.requests]
    assert events == ["message.added", "ticket.status_changed"]
    message_body = json.loads(receiver.requests[0].body)
    assert message_body["message"]["body_text"] == "On it" and message_body["message"]["public"] is True


def test_failed_delivery_retries_with_backoff_then_succeeds(subscription, receiver, customer,
                                                            django_capture_on_commit_callbacks):
    receiver.script = [500, 503]
    with django_capture_on_commit_callbacks(execute=True):
        make_ticket(requester=customer)
    delivery = Delivery.objects.get(transport="webhook")
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_status_code == 500
    first_delay = delivery.next_attempt_at - delivery.last_attempt_at
    assert datetime.timedelta(seconds=27) <= first_delay <= datetime.timedelta(seconds=31)  # 30 s, less jitter
    assert deliveries_drain() == 0  # not due yet

    _make_due()
    deliveries_drain()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 2
    second_delay = delivery.next_attempt_at - delivery.last_attempt_at
    assert datetime.timedelta(seconds=54) <= second_delay <= datetime.timedelta(seconds=61)  # exponential

    _make_due()
    deliveries_drain()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 3
    assert [a.status_code for a in DeliveryAttempt.objects.filter(delivery=delivery)] == [500, 503, 200]
    assert len(receiver.requests) == 3
    # every attempt is signed afresh, and the body is identical each time
    assert len({r.body for r in receiver.requests}) == 1
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0


def test_timeout_counts_as_failure(subscription, receiver, customer, settings,
                                   django_capture_on_commit_callbacks):
    settings.ATENDE_WEBHOOK_TIMEOUT = 0.3
    receiver.script = [("sleep", 1.0)]
    with django_capture_on_commit_callbacks(execute=True):
        make_ticket(requester=customer)
    delivery = Delivery.objects.get(transport="webhook")
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_status_code is None and "timed out" in delivery.last_error


def test_webhook_that_keeps_failing_is_disabled_with_notice(subscription, receiver, customer, admin_user, settings,
                                                           django_capture_on_commit_callbacks):
    settings.ATENDE_WEBHOOK_DISABLE_AFTER = 3
    receiver.default_status = 500
    with django_capture_on_commit_callbacks(execute=True):
        make_ticket(requester=customer)
    for _ in range(2):
        _make_due()
        with django_capture_on_commit_callbacks(execute=True):
            deliveries_drain()
    subscription.refresh_from_db()
    assert not subscription.is_active
    assert "3 failed deliveries" in subscription.disabled_reason
    notices = [m for m in mail.outbox if "Webhook" in m.subject]
    assert len(notices) == 1 and admin_user.email in notices[0].to and "CRM" in notices[0].subject
    # no more sends while disabled: the delivery waits without a due time and no attempt is counted
    _make_due()
    deliveries_drain()
    assert len(receiver.requests) == 3
    held = Delivery.objects.get(transport="webhook")
    assert (held.status, held.attempts, held.next_attempt_at) == (DeliveryStatus.FAILED, 3, None)
    assert deliveries_drain() == 0

    # the admin fixes the receiver, enables the webhook and re-sends the delivery
    receiver.default_status = 200
    webhook_subscription_update(actor=Actor.for_user(admin_user), subscription=subscription,
                                changes={"is_active": True})
    delivery = Delivery.objects.get(transport="webhook")
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_redeliver(actor=Actor.for_user(admin_user), delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 4


def test_same_event_is_delivered_once(subscription, receiver, customer, django_capture_on_commit_callbacks):
    from atende.integrations.subscribers import webhooks_on_events

    with django_capture_on_commit_callbacks(execute=True):
        make_ticket(requester=customer)
    event_payload = {"type": "TICKET_CREATED", "event_id": Delivery.objects.get(transport="webhook").event_id,
                     "ticket_id": Delivery.objects.get(transport="webhook").payload["body"]["ticket"]["id"], "data": {}}
    with django_capture_on_commit_callbacks(execute=True):
        webhooks_on_events([event_payload])  # the same batch handed over again
    assert Delivery.objects.filter(transport="webhook").count() == 1 and len(receiver.requests) == 1


def test_adhoc_call_is_signed_and_logged(receiver, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        webhook_deliver_adhoc(url=receiver.url, payload={"hello": "world"}, secret="s3cret")
    request = receiver.requests[0]
    assert json.loads(request.body) == {"hello": "world", "delivery_id": Delivery.objects.get(transport="webhook").pk}
    assert webhook_signature_verify("s3cret", request.headers["X-Atende-Signature"], request.body)
    assert Delivery.objects.get(transport="webhook").status == DeliveryStatus.SENT


def test_signature_rejects_replays_and_tampering():
    body = b'{"a":1}'
    old = webhook_signature("k", body, timestamp=int(timezone.now().timestamp()) - 3600)
    assert not webhook_signature_verify("k", old, body)
    fresh = webhook_signature("k", body)
    assert webhook_signature_verify("k", fresh, body)
    assert not webhook_signature_verify("k", fresh, b'{"a":2}')
    assert not webhook_signature_verify("k", "garbage", body)


def test_closed_ticket_status_event_is_sent(subscription, receiver, ticket, agent,
                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(ticket=ticket, to="solved", actor=Actor.for_user(agent), resolution_summary="done")
    body = json.loads(receiver.requests[-1].body)
    assert body["event"] == "ticket.status_changed"
    assert body["changes"]["old"] == "new" and body["changes"]["new"] == "solved"
    assert WebhookSubscription.objects.get().consecutive_failures == 0


def test_a_batch_reuses_one_kept_alive_connection_per_endpoint(receivers, db):
    first, second = receivers(), receivers()
    for n in range(6):
        webhook_deliver_adhoc(url=(first, second)[n % 2].url + f"?n={n}", payload={"n": n})
    assert deliveries_drain() == 6  # one claimed batch: the queueing transaction's callbacks never ran
    assert sorted(json.loads(r.body)["n"] for r in first.requests) == [0, 2, 4]
    assert sorted(json.loads(r.body)["n"] for r in second.requests) == [1, 3, 5]
    assert (first.connections, second.connections) == (1, 1)
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_a_slow_endpoint_still_times_out_inside_a_batch(receivers, settings, db):
    import time

    settings.ATENDE_WEBHOOK_TIMEOUT = 0.5
    slow = receivers()
    slow.script = [("sleep", 3.0)]
    for n in range(3):
        webhook_deliver_adhoc(url=slow.url, payload={"n": n})
    started = time.monotonic()
    deliveries_drain()
    assert time.monotonic() - started < 2.5  # the first send gave up at its timeout, not after the receiver's 3 s
    rows = list(Delivery.objects.order_by("id"))
    assert [r.status for r in rows] == [DeliveryStatus.FAILED, DeliveryStatus.SENT, DeliveryStatus.SENT]
    assert "timed out" in rows[0].last_error
    assert slow.connections == 2  # the timed-out connection was dropped; the rest shared a new one


def test_the_webhooks_subscriber_costs_the_same_for_twenty_tickets_as_for_two(subscription, customer, agent, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from atende.core.outbox.dispatch import payload_of
    from atende.integrations.subscribers import webhooks_on_events
    from atende.tickets.models import TicketEvent

    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False

    def events_of(count):
        tickets = [make_ticket(requester=customer, subject=f"Batch {count} #{n}") for n in range(count)]
        message_add_reply(ticket=tickets[0], actor=Actor.for_user(agent), body_text="On it")
        return tickets, [payload_of(row) for row in TicketEvent.objects.filter(ticket__in=tickets).order_by("id").values(
            "id", "type", "ticket_id", "actor_kind", "actor_user_id", "source_event_id", "data", "created_at")]

    def cost(events):
        with CaptureQueriesContext(connection) as ctx:
            webhooks_on_events(events)
        return len(ctx.captured_queries)

    few, few_events = events_of(2)
    many, many_events = events_of(20)
    assert cost(many_events) == cost(few_events)
    for tickets in (few, many):
        rows = Delivery.objects.filter(transport="webhook", ticket_id__in=[t.pk for t in tickets])
        kinds = sorted((d.ticket_id, d.kind) for d in rows)
        assert kinds == sorted([(t.pk, "ticket.created") for t in tickets]
                               + [(tickets[0].pk, "message.added"), (tickets[0].pk, "ticket.status_changed")])
        reply = rows.get(kind="message.added").payload["body"]
        assert reply["message"]["body_text"] == "On it" and reply["ticket"]["id"] == tickets[0].pk
    count = Delivery.objects.count()
    webhooks_on_events(many_events)  # the batch handed over again queues nothing
    assert Delivery.objects.count() == count


def test_no_delivery_and_no_payload_for_event_types_no_webhook_wants(admin_user, receiver, customer, agent,
                                                                     settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from atende.core import events
    from atende.core.outbox.dispatch import known_types, payload_of
    from atende.integrations.choices import EVENT_MAP
    from atende.integrations.subscribers import webhooks_on_events
    from atende.tickets.models import TicketEvent

    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    webhook_subscription_create(actor=Actor.for_user(admin_user), name="Solved only", url=receiver.url,
                                event_types=["ticket.status_changed"])
    ticket = make_ticket(requester=customer, subject="Not wanted")
    message_add_reply(ticket=ticket, actor=Actor.for_user(agent), body_text="On it")
    batch = [payload_of(row) for row in TicketEvent.objects.filter(ticket=ticket).exclude(type="STATUS_CHANGED")
             .order_by("id").values("id", "type", "ticket_id", "actor_kind", "actor_user_id", "source_event_id",
                                    "data", "created_at")]
    assert {"TICKET_CREATED", "REPLY_ADDED"} <= {e["type"] for e in batch}
    with CaptureQueriesContext(connection) as ctx:
        webhooks_on_events(batch)
    reads = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    # The active webhooks, read once; no ticket read, no payload built, nothing written.
    assert len(reads) == 1 and WebhookSubscription._meta.db_table in reads[0]
    assert not Delivery.objects.filter(transport="webhook").exists()
    # Types no webhook can subscribe to are never handed over; every type a webhook can want is.
    webhooks = events.subscriber_named("webhooks")
    handed = events.handled_types(webhooks, known_types())
    assert set(EVENT_MAP) <= handed
    assert not {"SLA_APPLIED", "AUTOMATION_APPLIED", "NOTIFICATION_SENT"} & handed


def test_a_batch_reads_its_webhook_once_and_records_its_results_set_wise(subscription, receiver, admin_user,
                                                                         monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from atende.integrations.services import webhook_subscription_ping
    from atende.outbound.services import send

    monkeypatch.setattr(send, "RECORD_EVERY", 60)  # however slow this machine, the batch's results go together
    WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=2)
    for _ in range(5):
        webhook_subscription_ping(actor=Actor.for_user(admin_user), subscription=subscription)
    with CaptureQueriesContext(connection) as ctx:
        assert deliveries_drain() == 5
    table = WebhookSubscription._meta.db_table
    touching = [q["sql"] for q in ctx.captured_queries if table in q["sql"]]
    assert len([sql for sql in touching if sql.startswith("SELECT")]) == 1
    assert len([sql for sql in touching if sql.startswith("UPDATE")]) == 1
    assert len(receiver.requests) == 5
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert WebhookSubscription.objects.get(pk=subscription.pk).consecutive_failures == 0


def test_a_webhook_switched_off_by_failures_holds_the_rest_of_the_same_batch(subscription, receiver, admin_user,
                                                                            settings):
    from atende.integrations.services import webhook_subscription_ping

    settings.ATENDE_WEBHOOK_DISABLE_AFTER = 2
    receiver.default_status = 500
    pings = [webhook_subscription_ping(actor=Actor.for_user(admin_user), subscription=subscription)
             for _ in range(4)]
    deliveries_drain()
    assert len(receiver.requests) == 2  # the second failure switched it off; the next two were not sent
    subscription.refresh_from_db()
    assert not subscription.is_active and subscription.consecutive_failures == 2
    rows = {d.pk: d for d in Delivery.objects.all()}
    assert [(rows[p.pk].status, rows[p.pk].attempts) for p in pings] == [
        (DeliveryStatus.FAILED, 1), (DeliveryStatus.FAILED, 1), (DeliveryStatus.PENDING, 0),
        (DeliveryStatus.PENDING, 0)]
    assert [rows[p.pk].next_attempt_at is None for p in pings] == [False, False, True, True]
