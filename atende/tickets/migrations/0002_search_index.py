"""The full-text search index (``tickets.search``): an FTS5 virtual table on SQLite, a tsvector table with a
GIN index on PostgreSQL. Not a Django model: its shape depends on the database engine."""

from django.db import migrations


def create_index(apps, schema_editor):
    from atende.tickets.search import postgres, sqlite

    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        if vendor == "postgresql":
            postgres.create_configurations(cursor)
            for statement in postgres.CREATE_SQL:
                cursor.execute(statement)
        elif vendor == "sqlite":
            cursor.execute(sqlite.CREATE_SQL)


def drop_index(apps, schema_editor):
    from atende.tickets.search import postgres, sqlite

    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        for statement in postgres.DROP_SQL if vendor == "postgresql" else [sqlite.DROP_SQL]:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial"), ("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
