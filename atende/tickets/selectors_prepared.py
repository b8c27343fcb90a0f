"""Reads whose SQL is built once: a query of a fixed shape (its joins, columns and annotations) whose only
variable parts are a few values (a ticket number, a ticket id) is compiled by the ORM once per database connection,
then run again with the new values and its rows turned into model instances as the ORM's ``ModelIterable`` does
(related instances of ``select_related`` and annotations included). Building a query (filters, joins, the
compiler) cost the ticket page more Python than reading its rows.

The queryset is built with stand-in values (integers no real row uses); each parameter equal to a stand-in is
replaced by the value in its place. A shape whose stand-ins do not all come out as parameters of their own is not
kept: it runs through the ORM every time.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

# Stand-ins for the values: negative, far from any id or number (value i stands in as FIRST - i).
FIRST_STAND_IN = -7_301_017_000
MAX_VALUES = 1024


def stand_ins(count: int) -> tuple[int, ...]:
    return tuple(FIRST_STAND_IN - i for i in range(count))
_ATTRIBUTE = "atende_prepared_reads"
KEPT_SHAPES = 64
_UNUSABLE = object()


class _Prepared:
    def __init__(self, queryset: QuerySet, count: int):
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        last = FIRST_STAND_IN - count
        self.slots = [(i, FIRST_STAND_IN - p) for i, p in enumerate(params)
                      if type(p) is int and last < p <= FIRST_STAND_IN]
        self.usable = {slot for _i, slot in self.slots} == set(range(count)) and not queryset._prefetch_related_lookups
        self.sql, self.params, self.compiler, self.db = sql, list(params), compiler, queryset.db
        select, klass_info = compiler.select, compiler.klass_info
        self.converters = compiler.get_converters([s[0] for s in select[:compiler.col_count]])
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start:self.end]]
        self.populators = get_related_populators(klass_info, select, queryset.db)
        self.annotations = list(compiler.annotation_col_map.items())

    def run(self, connection, values: Sequence[Any]) -> list[Model]:
        params = self.params.copy()
        for index, slot in self.slots:
            params[index] = values[slot]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        found = []
        for row in rows:
            obj = self.model.from_db(self.db, self.init_list, row[self.start:self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            found.append(obj)
        return found


def prepared_read(shape: Hashable, build: Callable[..., QuerySet], values: Sequence[Any],
                  using: str = DEFAULT_DB_ALIAS) -> list[Model]:
    """The instances ``build(*values)`` reads, with its SQL compiled once per connection for ``shape`` (which must
    name everything ``build`` makes differ but the values: the same shape, the same query). The project has no
    database router: reads go to ``using``."""
    if len(values) > MAX_VALUES:
        return list(build(*values))
    connection = connections[using]
    kept = connection.__dict__.setdefault(_ATTRIBUTE, {})
    prepared = kept.get(shape)
    if prepared is None:
        if len(kept) >= KEPT_SHAPES:  # shapes are few and fixed; this only bounds a caller's mistake
            kept.clear()
        queryset = build(*stand_ins(len(values)))
        if queryset.db != using:
            return list(build(*values))
        prepared = _Prepared(queryset, len(values))
        kept[shape] = prepared = prepared if prepared.usable else _UNUSABLE
    if prepared is _UNUSABLE:
        return list(build(*values))
    return prepared.run(connection, values)


def forget(using: str = DEFAULT_DB_ALIAS) -> None:
    """Drop the SQL kept on this thread's connection (tests that change how queries are built)."""
    connections[using].__dict__.pop(_ATTRIBUTE, None)
