"""Conventions every list and read endpoint shares: cursor pages, ``fields`` and ``expand``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db.models import Q, QuerySet

from atende.core.exceptions import ValidationError
from atende.core.pagination import keyset_page

MAX_PAGE_SIZE = 100


def parse_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def parse_fields(value: str | None, allowed: Iterable[str]) -> set[str] | None:
    """``fields=id,subject`` → the set to keep (``id`` always), or None for every field."""
    names = parse_list(value)
    if not names:
        return None
    allowed = set(allowed)
    unknown = sorted(set(names) - allowed)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(unknown)}.", code="unknown_fields",
                              details={"unknown": unknown, "allowed": sorted(allowed)})
    return {"id", *names}


def parse_expand(value: str | None, allowed: Iterable[str]) -> set[str]:
    names = set(parse_list(value))
    unknown = sorted(names - set(allowed))
    if unknown:
        raise ValidationError(f"Cannot expand: {', '.join(unknown)}.", code="unknown_expand",
                              details={"unknown": unknown, "allowed": sorted(allowed)})
    return names


def only_fields(data: dict[str, Any], fields: set[str] | None) -> dict[str, Any]:
    return data if fields is None else {k: v for k, v in data.items() if k in fields}


def page_of(qs: QuerySet, *, order: str, cursor: str | None, size: int,
            serialize: Callable[[Any], dict[str, Any]], branches: Sequence[Q] | None = None) -> dict[str, Any]:
    """One page as ``{"items", "next_cursor", "has_next"}`` (``branches``: see ``core.pagination``)."""
    size = max(1, min(int(size or 50), MAX_PAGE_SIZE))
    page = keyset_page(qs, order=order, cursor=cursor or None, size=size, branches=branches)
    return {"items": [serialize(item) for item in page.items], "next_cursor": page.next_cursor,
            "has_next": page.has_next}
