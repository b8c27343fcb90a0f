"""The three old queues merge into the engine's table: rows in flight keep their status, attempts, next attempt
and log; webhook deliveries keep their ids; the old tables are dropped."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from atende.outbound.models import Delivery

BEFORE = [("email_channel", "0004_participant_policy_and_subject_threading"), ("integrations", "0001_initial"),
          ("automation", "0001_initial"), ("outbound", "0001_initial")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_in_flight_rows_of_the_three_queues_move_to_the_engine():
    old = migrate(BEFORE)
    try:
        now = timezone.now().replace(microsecond=0)
        soon = now + dt.timedelta(minutes=7)
        Outbound, OldAttempt = old.get_model("email_channel", "OutboundMessage"), old.get_model(
            "email_channel", "DeliveryAttempt")
        mail = Outbound.objects.create(
            dedupe_key="5:ana@example.com:acknowledgement", kind="acknowledgement", ticket_id=None, event_id=5,
            from_email="support@atende.test", to=["ana@example.com"], cc=["carla@example.com"], subject="We got it",
            body_text="Hello", headers={"Auto-Submitted": "auto-generated"}, message_id="<atende.0.1@atende.test>",
            files=[{"filename": "r.csv", "content_type": "text/csv", "content": "YSxiCg=="}],
            status="retrying", attempts=2, max_attempts=6, next_attempt_at=soon, last_error="451 try later")
        OldAttempt.objects.create(outbound=mail, number=1, succeeded=False, error="451 busy", created_at=now)
        OldAttempt.objects.create(outbound=mail, number=2, succeeded=False, error="451 try later", created_at=now)
        Outbound.objects.create(from_email="a@b", to=["x@y"], subject="Done", body_text="", message_id="<m2@b>",
                                status="sent", attempts=1, sent_at=now)
        Subscription = old.get_model("integrations", "WebhookSubscription")
        OldWebhook, OldWebhookAttempt = old.get_model("integrations", "WebhookDelivery"), old.get_model(
            "integrations", "WebhookAttempt")
        active = Subscription.objects.create(name="CRM", url="http://127.0.0.1:9/a", secret="k", event_types=["*"])
        disabled = Subscription.objects.create(name="Old", url="http://127.0.0.1:9/b", secret="k",
                                               event_types=["*"], is_active=False)
        hook = OldWebhook.objects.create(id=907, subscription=active, url=active.url, event_id=77,
                                         event_type="ticket.created", payload={"ticket": {"id": 3}},
                                         status="failed", attempts=1, next_attempt_at=soon, last_status_code=500)
        OldWebhookAttempt.objects.create(delivery=hook, number=1, status_code=500, error="HTTP 500",
                                         duration_ms=12, created_at=now)
        OldWebhook.objects.create(id=908, subscription=disabled, url=disabled.url, event_id=78,
                                  event_type="ticket.created", payload={}, status="pending", next_attempt_at=now)
        OldWebhook.objects.create(id=909, url="http://127.0.0.1:9/adhoc", adhoc_secret="s", event_type="automation",
                                  payload={"event": "automation"}, status="abandoned", attempts=8)
        OldAutomation = old.get_model("automation", "Delivery")
        OldAutomation.objects.create(kind="email", payload={"to": ["bo@example.com"], "subject": "Hi", "body": "x"},
                                     status="pending", attempts=1, next_attempt_at=soon, last_error="refused")
        OldAutomation.objects.create(kind="webhook", payload={"url": "http://127.0.0.1:9/c", "secret": "s",
                                                              "body": {"event": "automation"}}, status="pending")
        OldAutomation.objects.create(kind="email", payload={"to": ["z@example.com"]}, status="sent")

        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

        moved = Delivery.objects.get(key="5:ana@example.com:acknowledgement")
        assert (moved.transport, moved.status, moved.attempts, moved.next_attempt_at) == ("mail", "failed", 2, soon)
        assert moved.external_id == "<atende.0.1@atende.test>" and moved.target == "ana@example.com, carla@example.com"
        assert moved.payload["files"][0]["filename"] == "r.csv" and moved.payload["cc"] == ["carla@example.com"]
        assert list(moved.attempt_log.values_list("number", "outcome", "error")) == [
            (1, "failed", "451 busy"), (2, "failed", "451 try later")]
        assert Delivery.objects.get(external_id="<m2@b>").status == "sent"

        webhook = Delivery.objects.get(pk=907)  # the id receivers and the API know
        assert (webhook.transport, webhook.status, webhook.next_attempt_at) == ("webhook", "failed", soon)
        assert webhook.key == f"77:webhook:{active.pk}" and webhook.source == f"webhook:{active.pk}"
        assert webhook.payload == {"subscription_id": active.pk, "secret": "", "body": {"ticket": {"id": 3}}}
        assert webhook.ticket_id == 3
        assert list(webhook.attempt_log.values_list("status_code", "duration_ms")) == [(500, 12)]
        held = Delivery.objects.get(pk=908)  # its webhook is disabled: it waits until enabled again
        assert (held.status, held.next_attempt_at) == ("pending", None)
        assert Delivery.objects.get(pk=909).status == "given_up"

        automation = Delivery.objects.filter(source="automation").exclude(pk=909).order_by("id")
        mail_row, hook_row = automation
        assert (mail_row.transport, mail_row.status, mail_row.attempts, mail_row.next_attempt_at) == (
            "mail", "failed", 1, soon)
        assert mail_row.payload["to"] == ["bo@example.com"] and mail_row.external_id.startswith("<atende.")
        assert (hook_row.transport, hook_row.status, hook_row.payload["secret"]) == ("webhook", "pending", "s")
        assert Delivery.objects.count() == 7  # the sent automation row was handed on (or is history)
        new = Delivery.objects.create(transport="mail", target="n@example.com")
        assert new.pk > 909  # the id sequence moved past the kept ids
        assert "email_channel_outboundmessage" not in connection.introspection.table_names()
        assert "integrations_webhookdelivery" not in connection.introspection.table_names()
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
