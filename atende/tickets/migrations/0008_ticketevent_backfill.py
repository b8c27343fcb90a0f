from django.db import migrations, models


class Migration(migrations.Migration):
    """Events already in the table were delivered by the per-subscriber tasks this replaces, so they are added as
    backfill (subscribers pass over them). The column is added with a database default of true, a metadata-only
    change on PostgreSQL and SQLite alike (no rewrite of a table of millions of rows); the ORM always writes the
    value itself (``False`` unless a bulk load says otherwise), and a raw bulk insert that omits it is backfill."""

    dependencies = [
        ("tickets", "0007_custom_field_choice_labels"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(model_name="ticketevent", name="backfill",
                                    field=models.BooleanField(default=False)),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql="ALTER TABLE tickets_ticketevent ADD COLUMN backfill boolean NOT NULL DEFAULT true",
                    reverse_sql="ALTER TABLE tickets_ticketevent DROP COLUMN backfill",
                ),
            ],
        ),
    ]
