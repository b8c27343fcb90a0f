"""Webhook deliveries move to the outbound engine's table with their attempts, keeping their ids (the API's
``/webhook-deliveries/<id>`` and the ``X-Atende-Delivery`` header stay the same). Pending and failed rows keep
their next attempt; those of a disabled webhook wait until it is enabled again."""

from django.conf import settings
from django.core.management.color import no_style
from django.db import migrations

STATUS = {"pending": "pending", "failed": "failed", "succeeded": "sent", "abandoned": "given_up"}


def forwards(apps, schema_editor):
    WebhookDelivery = apps.get_model("integrations", "WebhookDelivery")
    WebhookAttempt = apps.get_model("integrations", "WebhookAttempt")
    Delivery = apps.get_model("outbound", "Delivery")
    DeliveryAttempt = apps.get_model("outbound", "DeliveryAttempt")
    max_attempts = int(getattr(settings, "ATENDE_WEBHOOK_MAX_ATTEMPTS", 8))
    rows = WebhookDelivery.objects.select_related("subscription").order_by("id")
    for start in range(0, rows.count(), 500):
        batch = list(rows[start:start + 500])
        deliveries = []
        for old in batch:
            subscription = old.subscription
            status = STATUS[old.status]
            held = subscription is not None and not subscription.is_active and status in ("pending", "failed")
            ticket = old.payload.get("ticket") if isinstance(old.payload, dict) else None
            deliveries.append(Delivery(
                id=old.pk, transport="webhook", target=old.url,
                payload={"subscription_id": old.subscription_id, "secret": old.adhoc_secret, "body": old.payload},
                key=(f"{old.event_id}:webhook:{old.subscription_id}"
                     if old.event_id is not None and old.subscription_id is not None else None),
                source=f"webhook:{old.subscription_id}" if old.subscription_id else "automation",
                kind=old.event_type, event_id=old.event_id,
                ticket_id=ticket.get("id") if isinstance(ticket, dict) else None,
                status=status, attempts=old.attempts, max_attempts=max_attempts,
                next_attempt_at=None if held or status not in ("pending", "failed") else old.next_attempt_at,
                last_error=old.last_error, last_status_code=old.last_status_code,
                last_attempt_at=old.last_attempt_at, created_at=old.created_at, sent_at=old.delivered_at))
        Delivery.objects.bulk_create(deliveries)
        DeliveryAttempt.objects.bulk_create([
            DeliveryAttempt(delivery_id=a.delivery_id, number=a.number, status_code=a.status_code, error=a.error,
                            outcome="sent" if a.status_code and 200 <= a.status_code < 300 else "failed",
                            response_excerpt=a.response_excerpt, duration_ms=a.duration_ms, created_at=a.created_at)
            for a in WebhookAttempt.objects.filter(delivery_id__in=[d.pk for d in batch]).order_by("id")])
    # Ids were written explicitly: move PostgreSQL's sequence past them.
    with schema_editor.connection.cursor() as cursor:
        for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [Delivery]):
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_initial"),
        ("outbound", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
