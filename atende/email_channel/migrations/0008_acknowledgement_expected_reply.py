"""The acknowledgement states the expected first-reply time (``{{ expected_reply }}``). Rows still holding the
shipped sentence get the new one; a template an admin rewrote is left as it is."""

from django.db import migrations

SENTENCES = {
    "en": ("Your request has been registered as ticket #{{ ticket.number }} and our team will get back to you as "
           "soon as possible.",
           "Your request has been registered as ticket #{{ ticket.number }}. {{ expected_reply }}"),
    "pt-br": ("Sua solicitação foi registrada como chamado #{{ ticket.number }} e nossa equipe responderá assim que "
              "possível.",
              "Sua solicitação foi registrada como chamado #{{ ticket.number }}. {{ expected_reply }}"),
}


def forward(apps, schema_editor, *, reverse=False):
    NotificationTemplate = apps.get_model("email_channel", "NotificationTemplate")
    for language, (old, new) in SENTENCES.items():
        if reverse:
            old, new = new, old
        for row in NotificationTemplate.objects.filter(kind="acknowledgement", language=language):
            if old in row.body:
                row.body = row.body.replace(old, new)
                row.save(update_fields=["body"])


class Migration(migrations.Migration):
    dependencies = [("email_channel", "0007_undeliverable_address")]
    operations = [migrations.RunPython(forward, lambda apps, editor: forward(apps, editor, reverse=True))]
