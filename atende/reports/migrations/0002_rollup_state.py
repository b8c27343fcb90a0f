"""The rollups start empty: on a database that already has tickets they are "not ready", so the dashboard keeps
reading the ticket table until the first refresh (within a minute of starting the worker) or
``atende reports-rebuild`` has built them. The build itself is not done here: it would hold the migration for as
long as it takes (about a minute at 1,000,000 tickets) and tie this migration to the code of today."""

from django.db import migrations


def create_state(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    RollupState = apps.get_model("reports", "RollupState")
    RollupState.objects.update_or_create(pk=1, defaults={"ready": not Ticket.objects.exists()})


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_rollups")]

    operations = [migrations.RunPython(create_state, migrations.RunPython.noop)]
