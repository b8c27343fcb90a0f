"""Full-text index: a generated tsvector column + GIN index on PostgreSQL, an FTS5 table on SQLite.

See ``atende/kb/search.py``. Written per engine because neither structure exists on the other.
"""

from django.db import migrations

PG_FORWARD = [
    """
    ALTER TABLE kb_article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
        setweight(to_tsvector('portuguese'::regconfig, coalesce(title, '')), 'A') ||
        setweight(to_tsvector('english'::regconfig, coalesce(summary, '') || ' ' || coalesce(body_markdown, '')), 'B') ||
        setweight(to_tsvector('portuguese'::regconfig, coalesce(summary, '') || ' ' || coalesce(body_markdown, '')), 'B')
    ) STORED
    """,
    "CREATE INDEX kb_article_search_gin ON kb_article USING GIN (search_vector)",
]
PG_BACKWARD = ["DROP INDEX IF EXISTS kb_article_search_gin", "ALTER TABLE kb_article DROP COLUMN search_vector"]
SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE kb_article_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2')",
]
SQLITE_BACKWARD = ["DROP TABLE IF EXISTS kb_article_fts"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("kb", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
