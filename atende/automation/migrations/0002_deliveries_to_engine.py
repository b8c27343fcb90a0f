"""Automation's own email/webhook queue moves to the outbound engine. Rows still to send (and those given up,
so they stay visible) become engine deliveries with their attempts count and next attempt; sent rows were
handed to the mail and webhook queues (moved by their own migrations) or are history, and are not copied."""

import uuid

from django.conf import settings
from django.db import migrations


def forwards(apps, schema_editor):
    Old = apps.get_model("automation", "Delivery")
    Delivery = apps.get_model("outbound", "Delivery")
    from_email = settings.DEFAULT_FROM_EMAIL
    domain = from_email.rsplit("@", 1)[-1].strip(">") or "atende.invalid"
    for old in Old.objects.exclude(status="sent").order_by("id").iterator():
        payload = old.payload or {}
        if old.status == "failed":
            status = "given_up"
        else:
            status = "failed" if old.attempts else "pending"
        common = {"source": "automation", "kind": "automation", "ticket_id": old.ticket_id, "status": status,
                  "attempts": old.attempts, "last_error": old.last_error, "created_at": old.created_at,
                  "next_attempt_at": old.next_attempt_at if status != "given_up" else None}
        if old.kind == "email":
            recipients = list(payload.get("to") or [])
            headers = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "OOF, AutoReply",
                       **(payload.get("headers") or {})}
            Delivery.objects.create(
                transport="mail", target=", ".join(recipients)[:500],
                payload={"from_email": from_email, "reply_to": "", "to": recipients, "cc": [],
                         "subject": payload.get("subject", ""), "body_text": payload.get("body", ""),
                         "body_html": "", "headers": headers, "attachment_ids": [], "files": [],
                         "ticket_message_id": None},
                external_id=f"<atende.{old.ticket_id or 0}.{uuid.uuid4().hex}@{domain}>",
                max_attempts=max(int(getattr(settings, "EMAIL_OUTBOUND_MAX_ATTEMPTS", 6)), old.attempts + 1),
                **common)
        else:
            Delivery.objects.create(
                transport="webhook", target=payload.get("url", "")[:500],
                payload={"subscription_id": None, "secret": payload.get("secret", ""),
                         "body": payload.get("body", {})},
                max_attempts=max(int(getattr(settings, "ATENDE_WEBHOOK_MAX_ATTEMPTS", 8)), old.attempts + 1),
                **common)


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0001_initial"),
        ("outbound", "0001_initial"),
        ("integrations", "0002_webhook_deliveries_to_engine"),
        ("email_channel", "0005_outbound_to_engine"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
