"""SLA shares are read from the SLA clocks (met and decided per target, next reply included) instead of the ticket's
due-time columns, which only hold the targets still running. The rows built before hold the old figures: the
rollups are marked "not ready", so the dashboard reads the ticket table until the next refresh (within a minute
of starting the worker) or ``atende reports-rebuild`` has rebuilt them."""

from django.db import migrations, models


def rebuild_later(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    RollupState = apps.get_model("reports", "RollupState")
    RollupState.objects.update_or_create(pk=1, defaults={"ready": not Ticket.objects.exists(),
                                                          "rebuild_started_at": None})


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0002_rollup_state"),
        ("sla", "0001_initial"),
    ]

    operations = [
        migrations.AddField(model_name="daystats", name="next_reply_decided", field=models.IntegerField(default=0)),
        migrations.AddField(model_name="daystats", name="next_reply_met", field=models.IntegerField(default=0)),
        migrations.AddField(model_name="hourstats", name="next_reply_decided", field=models.IntegerField(default=0)),
        migrations.AddField(model_name="hourstats", name="next_reply_met", field=models.IntegerField(default=0)),
        migrations.RunPython(rebuild_later, migrations.RunPython.noop),
    ]
