"""New rows of plain values inserted as ``bulk_create`` would, without the ORM's per-value layers.

``bulk_create`` prepares every field of every row through the field's ``get_db_prep_save`` and the compiler's
per-value checks: about 200 Python calls a row for the worker's clocks, rule runs and delivery attempts, a third of
the SLA subscriber's work. Here each field gets one binder, chosen once per statement (an aware datetime goes
straight to the backend's adapter; ids, text and numbers as they are; anything else through the field itself), and
the same multi-row ``INSERT`` (``RETURNING`` the ids where asked) is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from typing import Any

from django.db import connections, router
from django.db.models import Model
from django.utils import timezone

PLAIN = frozenset({"ForeignKey", "CharField", "TextField", "IntegerField", "BigIntegerField", "PositiveIntegerField"})
MAX_ROWS = 500


@cache
def _fields_and_defaults(model: type[Model]) -> tuple[tuple[str, Callable[[], Any]], ...]:
    return tuple((f.attname, f.get_default) for f in model._meta.concrete_fields)


def instance_new(model: type[Model], **values: Any) -> Model:
    """``model(**values)``, the fields not given at their defaults (called for each instance, as Django does),
    built from positional arguments: the model's cheap way in, without matching each keyword to a field."""
    return model(*[values[name] if name in values else default() for name, default in _fields_and_defaults(model)])


def binders(fields: list, connection) -> list[Callable[[Any], Any] | None]:
    """For each field, what makes a value the parameter the ORM would bind (``get_db_prep_save``); None: as it is."""
    found: list[Callable[[Any], Any] | None] = []
    for field in fields:
        kind = field.get_internal_type()
        if kind == "DateTimeField":
            found.append(connection.ops.adapt_datetimefield_value)
        elif kind in PLAIN:
            found.append(None)
        else:
            found.append(partial(field.get_db_prep_save, connection=connection))
    return found


def bound(obj: Model, fields: list, field_binders: list) -> list:
    values = [getattr(obj, f.attname) for f in fields]
    return [v if bind is None or v is None else bind(v) for v, bind in zip(values, field_binders, strict=True)]


def rows_insert(model: type[Model], objs: list[Model], *, ids: bool) -> list[Model]:
    """``model.objects.bulk_create(objs)`` for new rows whose values are all on the objects (``auto_now`` fields
    are set here; other defaults must be set already): the same multi-row INSERT, returning the ids into the
    objects when ``ids``. ``bulk_create`` itself where the backend cannot return ids from it."""
    if not objs:
        return objs
    connection = connections[router.db_for_write(model)]
    if ids and not connection.features.can_return_rows_from_bulk_insert:
        return model.objects.bulk_create(objs, batch_size=MAX_ROWS)
    now, meta, ops = timezone.now(), model._meta, connection.ops
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for obj in objs:
                setattr(obj, field.attname, now)
    field_binders = binders(fields, connection)
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    returning = f" RETURNING {ops.quote_name(meta.pk.column)}" if ids else ""
    size = max(1, min(MAX_ROWS, ops.bulk_batch_size(fields, objs)))
    for start in range(0, len(objs), size):
        chunk = objs[start:start + size]
        params = [value for obj in chunk for value in bound(obj, fields, field_binders)]
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {ops.quote_name(meta.db_table)} ({columns}) VALUES "
                           f"{', '.join([row] * len(chunk))}{returning}", params)
            found = [r[0] for r in cursor.fetchall()] if ids else None
        for n, obj in enumerate(chunk):
            if ids:
                obj.pk = found[n]
            obj._state.adding, obj._state.db = False, connection.alias
    return objs
