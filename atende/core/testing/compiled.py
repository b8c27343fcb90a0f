"""Which queries the ORM compiles: for tests that check a read's SQL is kept (``core.prepared``), not built again."""

from __future__ import annotations

from django.db.models.sql import compiler


def count_compiled(monkeypatch) -> list:
    """From now on in the test, the model of every query compiled is appended to the returned list."""
    built: list = []
    original = compiler.SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        built.append(self.query.model)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(compiler.SQLCompiler, "as_sql", counting)
    return built
