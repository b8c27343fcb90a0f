"""SQLite query plans of captured statements, for tests that pin a read to an index."""

from __future__ import annotations

from django.db import connection


def sqlite_full_scans(captured_queries: list[dict], *, mentioning: str, tables: tuple[str, ...]) -> list[str]:
    """The captured SELECTs mentioning ``mentioning`` whose plan walks one of ``tables`` ("SCAN", with or
    without an index) instead of searching it."""
    scans = []
    with connection.cursor() as cursor:
        for query in captured_queries:
            sql = query["sql"]
            if not sql.startswith("SELECT") or mentioning not in sql:
                continue
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            steps = [str(row[-1]) for row in cursor.fetchall()]
            if any(step == f"SCAN {table}" or step.startswith(f"SCAN {table} ") for step in steps for table in tables):
                scans.append(f"{sql[:200]}… → {' | '.join(steps)}")
    return scans
