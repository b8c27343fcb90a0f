"""Keyset (cursor) pagination: page 1,000 costs what page 1 costs, and rows never repeat or vanish between pages.

The queryset is ordered by ``order`` (a field name, ``-`` for descending) then by ``id`` in the same direction;
the cursor is the (value, id) of the last row seen, signed so clients cannot forge arbitrary SQL comparisons.
"""

from __future__ import annotations

import base64
import datetime
import json
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db.models import Q, QuerySet

from atende.core.exceptions import ValidationError

_SIGNER = signing.Signer(salt="atende.pagination")


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    has_next: bool


def _encode(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"d": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "dt" in value:
        return datetime.datetime.fromisoformat(value["dt"])
    if isinstance(value, dict) and "d" in value:
        return datetime.date.fromisoformat(value["d"])
    return value


def make_cursor(order: str, value: Any, pk: int) -> str:
    raw = json.dumps([order, _encode(value), pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(_SIGNER.sign(raw).encode()).decode().rstrip("=")


def read_cursor(cursor: str, order: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = _SIGNER.unsign(base64.urlsafe_b64decode(padded.encode()).decode())
        cursor_order, value, pk = json.loads(raw)
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError):
        raise ValidationError("The page cursor is invalid.", code="invalid_cursor")
    if cursor_order != order:
        raise ValidationError("The page cursor belongs to another sort order.", code="invalid_cursor")
    return _decode(value), int(pk)


def keyset_page(qs: QuerySet, *, order: str, cursor: str | None = None, size: int = 50) -> Page:
    """One page of ``qs`` ordered by ``order`` then id. Rows whose sort value is NULL sort last and are skipped
    by cursors (sort by non-null fields for lists that must page through everything)."""
    descending = order.startswith("-")
    field = order.lstrip("-")
    id_order = "-id" if descending else "id"
    qs = qs.order_by(order, id_order) if field != "id" else qs.order_by(id_order)
    if cursor:
        value, pk = read_cursor(cursor, order)
        if field == "id":
            qs = qs.filter(id__lt=pk) if descending else qs.filter(id__gt=pk)
        # The redundant ``<=``/``>=`` bound lets the database seek into the (field, id) index instead of
        # scanning it from the start: without it a deep page costs more than the first.
        elif descending:
            qs = qs.filter(Q(**{f"{field}__lte": value}),
                           Q(**{f"{field}__lt": value}) | Q(**{field: value, "id__lt": pk}))
        else:
            qs = qs.filter(Q(**{f"{field}__gte": value}),
                           Q(**{f"{field}__gt": value}) | Q(**{field: value, "id__gt": pk}))
    rows = list(qs[: size + 1])
    has_next = len(rows) > size
    rows = rows[:size]
    next_cursor = None
    if has_next and rows:
        last = rows[-1]
        next_cursor = make_cursor(order, getattr(last, field) if field != "id" else last.pk, last.pk)
    return Page(items=rows, next_cursor=next_cursor, has_next=has_next)
