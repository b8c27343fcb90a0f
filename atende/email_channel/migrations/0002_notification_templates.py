"""Seed the notification templates from the shipped files, so admins find every one ready to edit."""

from pathlib import Path

from django.db import migrations

KINDS = ["acknowledgement", "agent_reply", "request_solved", "team_new_ticket", "ticket_assigned",
         "customer_replied", "note_mention"]
ROOT = Path(__file__).resolve().parents[1] / "templates" / "email_channel" / "notifications"


def seed(apps, schema_editor):
    NotificationTemplate = apps.get_model("email_channel", "NotificationTemplate")
    for language in ("en", "pt-br"):
        for kind in KINDS:
            source = (ROOT / language / f"{kind}.txt").read_text(encoding="utf-8")
            head, _, body = source.partition("\n\n")
            NotificationTemplate.objects.get_or_create(
                kind=kind, language=language,
                defaults={"subject": head.removeprefix("Subject:").strip(), "body": body.strip() + "\n"},
            )


class Migration(migrations.Migration):
    dependencies = [("email_channel", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
