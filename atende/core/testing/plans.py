"""SQLite query plans of captured statements, for tests that pin a read to an index."""

from __future__ import annotations

from django.db import connection


def sqlite_plans(captured_queries: list[dict], *, mentioning: str) -> list[tuple[str, list[str]]]:
    """(SQL, plan steps) of each captured SELECT that mentions ``mentioning``."""
    plans = []
    with connection.cursor() as cursor:
        for query in captured_queries:
            sql = query["sql"]
            if not sql.startswith("SELECT") or mentioning not in sql:
                continue
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            plans.append((sql, [str(row[-1]) for row in cursor.fetchall()]))
    return plans


def sqlite_full_scans(captured_queries: list[dict], *, mentioning: str, tables: tuple[str, ...]) -> list[str]:
    """The captured SELECTs mentioning ``mentioning`` whose plan walks one of ``tables`` ("SCAN", with or
    without an index) instead of searching it."""
    return [f"{sql[:200]}… → {' | '.join(steps)}" for sql, steps in sqlite_plans(captured_queries, mentioning=mentioning)
            if any(step == f"SCAN {table}" or step.startswith(f"SCAN {table} ") for step in steps for table in tables)]
