"""Reads whose SQL is compiled once per database connection instead of on every call.

Building a queryset (filters, ``select_related`` joins, annotations, ordering, the slice) and compiling it costs
the ORM thousands of Python calls: several times what running the statement and making its rows into objects
costs. Hot reads of a fixed shape, whose only variable parts are a few values (the token behind ``Authorization:
Bearer``, the requester behind an address, a ticket's number, a thread's ticket id), build their queryset once
with stand-in values, keep its SQL and the ORM's own recipe for turning a row into objects (``from_db``, the
``select_related`` populators, annotations and the backend's converters, as ``ModelIterable`` does), and run that
SQL again with the real values in the stand-ins' places: the same statement, the same objects.

Stand-ins: an ``int`` value stands in as a negative number far from any id or number; a ``str`` as a marker no
real value holds. Each must come out of compilation as parameters of its own, unchanged, and a ``str`` only from
an ``exact`` comparison (``iexact``'s escaping or a ``LIKE`` pattern rewrites a value: such a read could not put
the real one back). A shape that breaks this is refused with ``ValueError`` the first time it runs, never run
with a value in the wrong form.

On PostgreSQL the statement is also prepared on the server (``_statement_cursor``): Django binds values on the
client, so the server parses and plans each statement anew, and planning a read of a ticket with its seven joins
took ~4 ms against ~0.4 ms of running it. These reads run with a cursor that binds on the server, which psycopg
prepares once a statement has run ``prepare_threshold`` times on the connection (``DATABASE_PREPARED_STATEMENTS``).

``prepared_read(shape, build, values)`` returns the instances, ``prepared_rows`` a ``values_list()``'s tuples;
``server_bound()`` prepares on the server whatever the ORM runs in the block (shapes that vary with data);
``PreparedLookup`` is ``build(...).first()``;
``prepared_update`` is an ``update()`` whose parameters the caller prepares, checked against the ORM's once.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Model, QuerySet
from django.db.models.lookups import Exact
from django.db.models.query import ValuesListIterable, get_related_populators
from django.db.models.sql.subqueries import UpdateQuery
from django.db.models.sql.where import WhereNode

# Value i of an int stands in as FIRST_STAND_IN - i: negative, far from any id or number, and inside a 32-bit
# integer column's range (PostgreSQL's lookups turn a value out of the column's range into no condition at all).
FIRST_STAND_IN = -2_100_000_000
MAX_VALUES = 1024
KEPT_SHAPES = 64  # per connection; shapes are few and fixed, this only bounds a caller's mistake
_ATTRIBUTE = "atende_prepared_reads"


def stand_in(index: int, value: Any) -> int | str:
    if isinstance(value, str):  # text choices too
        return f"\x00prepared:{index}\x00"
    if isinstance(value, int) and not isinstance(value, bool):
        return FIRST_STAND_IN - index
    raise TypeError(f"A prepared read takes int and str values, not {type(value).__name__}.")


def _exact_values(node):
    """The right-hand sides of the ``exact`` lookups in a WHERE tree."""
    for child in node.children:
        if isinstance(child, WhereNode):
            yield from _exact_values(child)
        elif isinstance(child, Exact) and isinstance(child.rhs, str):
            yield child.rhs


class _Prepared:
    def __init__(self, queryset: QuerySet, stand_ins: Sequence[int | str], *, rows: bool = False):
        if queryset._prefetch_related_lookups or queryset._known_related_objects:
            raise ValueError("A prepared read makes plain rows: no prefetches.")
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        index = {s: i for i, s in enumerate(stand_ins)}
        # PostgreSQL's backend wraps some ints (psycopg's ``Int8`` for big integers): the real value is wrapped alike.
        self.slots = [(position, index[p], None if type(p) in (int, str) else type(p))
                      for position, p in enumerate(params)
                      if isinstance(p, (int, str)) and not isinstance(p, bool) and p in index]
        found = [i for _position, i, _wrap in self.slots]
        exact = [index[rhs] for rhs in _exact_values(queryset.query.where) if rhs in index]
        for i, s in enumerate(stand_ins):
            if i not in found or isinstance(s, str) and (found.count(i) != 1 or exact.count(i) != 1 or s in sql):
                raise ValueError(f"A prepared read's value {i} must be a plain parameter (a str: of an exact "
                                 "comparison).")
        self.sql, self.params, self.compiler, self.db = sql, list(params), compiler, queryset.db
        select, klass_info = compiler.select, compiler.klass_info
        self.converters = compiler.get_converters([column[0] for column in select[:compiler.col_count]])
        if rows:  # a values_list() of fields: the rows as they come, converted
            if (queryset._iterable_class is not ValuesListIterable or queryset.query.extra_select
                    or queryset.query.annotation_select):
                raise ValueError("Prepared rows are a values_list() of fields: no flat, named, extra or annotated "
                                 "columns.")
            self.model = None
            return
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start:self.end]]
        self.populators = get_related_populators(klass_info, select, queryset.db)
        self.annotations = list(compiler.annotation_col_map.items())

    def run(self, connection, values: Sequence[Any]) -> list[Model] | list[tuple]:
        params = self.params.copy()
        for position, i, wrap in self.slots:
            params[position] = values[i] if wrap is None else wrap(values[i])
        with _statement_cursor(connection) as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)  # lists, made as they are read
        if self.model is None:
            return [tuple(row) for row in rows] if self.converters else rows
        found = []
        for row in rows:
            obj = self.model.from_db(self.db, self.init_list, row[self.start:self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            found.append(obj)
        return found


def _prepares(connection) -> bool:
    return connection.vendor == "postgresql" and connection.settings_dict["OPTIONS"].get("prepare_threshold") is not None


@functools.cache
def _preparing_cursor() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        """Keeps the statement it ran for Django's query log (``last_executed_query`` reads ``_query``, which
        psycopg leaves unset when it runs an already prepared statement: the log would show ``None``)."""

        def _send_query_prepared(self, name, pgq, *args, **kwargs):
            self._query = pgq
            return super()._send_query_prepared(name, pgq, *args, **kwargs)

    return PreparingCursor


@contextlib.contextmanager
def server_bound(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Inside the block, the ORM's statements on ``using`` bind their values on the server (on PostgreSQL with
    prepared statements on; elsewhere nothing changes), so psycopg prepares each statement text once it has run
    ``prepare_threshold`` times on the connection: the text is the shape, values and all are parameters.

    For reads built by the ORM on every call whose shape varies with data (a list's filters, its page cursor):
    the Python compilation stays, the server's planning goes. Django runs its own test suite this way
    (``server_side_binding``) except for parameters in GROUP BY, which these reads do not have."""
    connection = connections[using]
    if not _prepares(connection):
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    client_binding, raw.cursor_factory = raw.cursor_factory, _preparing_cursor()
    try:
        yield
    finally:
        raw.cursor_factory = client_binding


@contextlib.contextmanager
def _statement_cursor(connection) -> Iterator:
    """Django's cursor (its wrappers count and log the statement as usual); on PostgreSQL with prepared statements
    on, one that binds values on the server, so that psycopg can prepare the statement there."""
    with server_bound(connection.alias):
        cursor = connection.cursor()
    with cursor:
        yield cursor


def _run_prepared(shape: Hashable, build: Callable[..., QuerySet], values: Sequence[Any], using: str, *,
                  rows: bool = False):
    if len(values) > MAX_VALUES:
        return None
    connection = connections[using]
    kept = connection.__dict__.setdefault(_ATTRIBUTE, {})
    key = (shape, rows, tuple(isinstance(v, str) for v in values))
    prepared = kept.get(key)
    if prepared is None:
        if len(kept) >= KEPT_SHAPES:
            kept.clear()
        queryset = build(*(stand_in(i, v) for i, v in enumerate(values)))
        if queryset.db != using:
            return None
        kept[key] = prepared = _Prepared(queryset, [stand_in(i, v) for i, v in enumerate(values)], rows=rows)
    return prepared.run(connection, values)


def prepared_read(shape: Hashable, build: Callable[..., QuerySet], values: Sequence[Any],
                  using: str = DEFAULT_DB_ALIAS) -> list[Model]:
    """The instances ``build(*values)`` reads, its SQL compiled once per connection for ``shape`` (which must name
    everything that makes ``build`` differ but the values: the same shape, the same query). The project has no
    database router: reads go to ``using``."""
    found = _run_prepared(shape, build, values, using)
    return list(build(*values)) if found is None else found


def prepared_rows(shape: Hashable, build: Callable[..., QuerySet], values: Sequence[Any],
                  using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
    """``prepared_read`` for a ``values_list()`` of fields (no ``flat``, no ``named``): the tuples it reads."""
    found = _run_prepared(shape, build, values, using, rows=True)
    return list(build(*values)) if found is None else found


_UPDATES = "atende_prepared_updates"


def same_params(ours: Sequence[Any], orm: Sequence[Any]) -> bool:
    """The ORM's parameters, value for value and type for type (a backend's adapter compared by what it wraps)."""
    return len(ours) == len(orm) and all(type(a) is type(b) and getattr(a, "obj", a) == getattr(b, "obj", b)
                                         for a, b in zip(ours, orm, strict=True))


def prepared_update(shape: Hashable, build: Callable[[], tuple[QuerySet, dict[str, Any]]], params: Sequence[Any],
                    using: str = DEFAULT_DB_ALIAS) -> int:
    """``queryset.update(**values)`` for ``(queryset, values) = build()``, run from SQL compiled once per
    connection for ``shape`` (everything that makes the statement's text differ: which values are None, how many
    terms). ``params`` are the statement's parameters in its order, prepared by the fields as the ORM prepares
    them (``get_db_prep_save``, ``get_db_prep_value``): the first update of a shape is compiled by the ORM and
    its parameters compared with these; a backend that prepares them otherwise keeps the ORM's update."""
    connection = connections[using]
    kept = connection.__dict__.setdefault(_UPDATES, {})
    if shape not in kept:
        if len(kept) >= KEPT_SHAPES:
            kept.clear()
        queryset, values = build()
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(values)
        sql, orm_params = query.get_compiler(using).as_sql()
        kept[shape] = sql if queryset.db == using and same_params(params, orm_params) else None
    if kept[shape] is None:
        queryset, values = build()
        return queryset.update(**values)
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        cursor.execute(kept[shape], params)
        return cursor.rowcount


def padded(ids: Sequence[int], *, smallest: int = 4) -> list[int]:
    """``ids`` padded with 0 (no row has it) to a power of two: reads of ``pk__in`` lists take a few shapes, each
    compiled once, instead of one per length."""
    size = smallest
    while size < len(ids):
        size *= 2
    return [*ids, *[0] * (size - len(ids))]


def forget(using: str = DEFAULT_DB_ALIAS) -> None:
    """Drop the SQL kept on this thread's connection (tests that change how queries are built)."""
    connections[using].__dict__.pop(_ATTRIBUTE, None)
    connections[using].__dict__.pop(_UPDATES, None)


class PreparedLookup:
    """``build(**stand_ins)`` returns the queryset; ``lookup(**values)`` is ``build(**values).first()`` without
    building or compiling anything after the first call on a connection. ``build`` must order the rows itself
    when more than one can match (or they come by primary key, as ``first()`` orders them)."""

    def __init__(self, build: Callable[..., QuerySet], *names: str):
        self.build, self.names = build, names

    def _first(self, *values: Any) -> QuerySet:
        queryset = self.build(**dict(zip(self.names, values, strict=True)))
        return (queryset if queryset.ordered else queryset.order_by("pk"))[:1]

    def __call__(self, **values: Any) -> Model | None:
        found = prepared_read(self, self._first, [values[name] for name in self.names])
        return found[0] if found else None
