"""Hot one-row lookups whose SQL is compiled once per process instead of on every call.

Building a queryset with ``select_related`` and compiling it costs the ORM a few thousand Python calls (column
lists of every joined model, joins, ordering, the slice), several times what running the statement and making
the rows into objects costs. For the lookups every API request makes (the token behind ``Authorization: Bearer``,
the requester behind an address), a ``PreparedLookup`` builds the queryset once with stand-in values, keeps its
SQL and the ORM's own recipe for turning a row into objects (the same ``from_db`` and select_related populators
``QuerySet`` uses), and on each call runs that SQL with the real values: the same statement, the same objects.

Only for ``exact`` comparisons with string values: each stand-in must come out of compilation as a parameter of its
own, unchanged (a lookup that rewrites its value, such as ``iexact``'s escaping or a ``LIKE`` pattern, is refused
when the lookup is first used rather than silently run with an unescaped value).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.lookups import Exact
from django.db.models.query import get_related_populators
from django.db.models.sql.where import WhereNode


def _exact_values(node):
    """The right-hand sides of the ``exact`` lookups in a WHERE tree."""
    for child in node.children:
        if isinstance(child, WhereNode):
            yield from _exact_values(child)
        elif isinstance(child, Exact) and isinstance(child.rhs, str):
            yield child.rhs


class _Compiled:
    def __init__(self, queryset: QuerySet, names: tuple[str, ...], markers: dict[str, str]):
        db = queryset.db
        self.vendor = connections[db].vendor
        compiler = queryset.query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        by_marker = {marker: name for name, marker in markers.items()}
        exact = [by_marker[rhs] for rhs in _exact_values(queryset.query.where) if rhs in by_marker]
        slots = [by_marker.get(param) if isinstance(param, str) else None for param in params]
        for name, marker in markers.items():
            if slots.count(name) != 1 or exact.count(name) != 1 or marker in sql:
                raise ValueError(f"PreparedLookup: {name!r} must be one plain parameter of an exact comparison.")
        self.db, self.sql = db, sql
        self.params = list(params)
        self.slots = [(i, name) for i, name in enumerate(slots) if name is not None]
        select, klass_info = compiler.select, compiler.klass_info
        if compiler.annotation_col_map or queryset._known_related_objects or queryset._prefetch_related_lookups:
            raise ValueError("PreparedLookup: plain model rows only (no annotations or prefetches).")
        self.model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.model_slice = slice(start, end)
        self.init_list = [column[0].target.attname for column in select[start:end]]
        self.populators = get_related_populators(klass_info, select, db)
        # The backend's converters are methods of the connection they were asked of; each call takes them from
        # the connection it runs on (another thread's), by name.
        self.converters = []
        for position, (functions, expression) in compiler.get_converters(
                [column[0] for column in select[:compiler.col_count]]).items():
            steps = [(function.__name__, None) if getattr(function, "__self__", None) is compiler.connection.ops
                     else (None, function) for function in functions]
            self.converters.append((position, steps, expression))

    def run(self, values: dict[str, str]) -> Model | None:
        params = self.params.copy()
        for i, name in self.slots:
            params[i] = values[name]
        connection = connections[self.db]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if self.converters:
            row = list(row)
            ops = connection.ops
            for position, steps, expression in self.converters:
                value = row[position]
                for name, function in steps:
                    value = (getattr(ops, name) if function is None else function)(value, expression, connection)
                row[position] = value
        obj = self.model.from_db(self.db, self.init_list, row[self.model_slice])
        for populator in self.populators:
            populator.populate(row, obj)
        return obj


class PreparedLookup:
    """``build(**stand_ins)`` returns the queryset; ``lookup(**values)`` is ``build(**values).first()`` without
    building or compiling anything. ``build`` must order the rows itself when more than one can match."""

    def __init__(self, build: Callable[..., QuerySet], *names: str):
        self.build, self.names = build, names
        self._compiled: _Compiled | None = None

    def _compile(self) -> _Compiled:
        markers = {name: f"\x00prepared:{name}:{id(self)}\x00" for name in self.names}
        queryset = self.build(**markers)
        if not queryset.ordered:
            queryset = queryset.order_by("pk")  # as ``first()`` does
        compiled = _Compiled(queryset[:1], self.names, markers)
        self._compiled = compiled  # a race compiles twice, harmlessly
        return compiled

    def __call__(self, **values: Any) -> Model | None:
        for name in self.names:
            if not isinstance(values[name], str):
                raise TypeError(f"PreparedLookup: {name!r} must be a str.")
        compiled = self._compiled
        if compiled is None or connections[compiled.db].vendor != compiled.vendor:
            compiled = self._compile()
        return compiled.run(values)
