"""Queued mail moves to the outbound engine's table (transport ``mail``) with its attempts: the Message-ID
becomes ``external_id`` (threading and bounces still find it), ``dedupe_key`` becomes ``key``; queued and
retrying rows keep their next attempt, a row being sent keeps its ten-minute lease."""

import datetime

from django.db import migrations

STATUS = {"queued": "pending", "sending": "sending", "retrying": "failed", "sent": "sent", "failed": "given_up",
          "cancelled": "cancelled"}


def forwards(apps, schema_editor):
    OutboundMessage = apps.get_model("email_channel", "OutboundMessage")
    OldAttempt = apps.get_model("email_channel", "DeliveryAttempt")
    Delivery = apps.get_model("outbound", "Delivery")
    DeliveryAttempt = apps.get_model("outbound", "DeliveryAttempt")
    rows = OutboundMessage.objects.order_by("id")
    for start in range(0, rows.count(), 500):
        batch = list(rows[start:start + 500])
        attempts = {}
        for a in OldAttempt.objects.filter(outbound_id__in=[m.pk for m in batch]).order_by("id"):
            attempts.setdefault(a.outbound_id, []).append(a)
        for old in batch:
            status = STATUS[old.status]
            log = attempts.get(old.pk, [])
            delivery = Delivery.objects.create(
                transport="mail", target=", ".join([*old.to, *old.cc])[:500],
                payload={"from_email": old.from_email, "reply_to": old.reply_to, "to": old.to, "cc": old.cc,
                         "subject": old.subject, "body_text": old.body_text, "body_html": old.body_html,
                         "headers": old.headers, "attachment_ids": old.attachment_ids, "files": old.files,
                         "ticket_message_id": old.ticket_message_id},
                key=old.dedupe_key or None, source="automation" if old.kind == "automation" else "mail",
                kind=old.kind, ticket_id=old.ticket_id, event_id=old.event_id, external_id=old.message_id,
                status=status, attempts=old.attempts, max_attempts=old.max_attempts,
                next_attempt_at=old.next_attempt_at if status in ("pending", "failed") else None,
                lease_until=(old.next_attempt_at or old.created_at) + datetime.timedelta(minutes=10)
                if status == "sending" else None,
                last_error=old.last_error, last_attempt_at=log[-1].created_at if log else None,
                created_at=old.created_at, sent_at=old.sent_at)
            DeliveryAttempt.objects.bulk_create([
                DeliveryAttempt(delivery=delivery, number=a.number, outcome="sent" if a.succeeded else "failed",
                                error=a.error, created_at=a.created_at) for a in log])


class Migration(migrations.Migration):
    dependencies = [
        ("email_channel", "0004_participant_policy_and_subject_threading"),
        ("outbound", "0001_initial"),
        # After the webhook deliveries, which keep their ids; mail gets new ones.
        ("integrations", "0002_webhook_deliveries_to_engine"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
