"""Configuration read once per batch of events.

The dispatcher opens a ``batch_scope()`` around every subscriber batch; inside it ``batch_cached(key, load)`` loads
a value once and hands the same object back for the rest of the batch. Outside a scope it simply loads, so web
requests always see the latest configuration.

Only for rows that subscribers read and never write (settings, SLA policies, calendars, rules, templates, team
members): each batch reads them afresh, so an admin's change applies from the next batch on. Callers must not
mutate what they get back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

_state = threading.local()


@contextmanager
def batch_scope() -> Iterator[None]:
    """A fresh cache for the enclosed work; nested scopes share the outermost one."""
    if getattr(_state, "cache", None) is not None:
        yield
        return
    _state.cache = {}
    try:
        yield
    finally:
        _state.cache = None


def batch_cached(key: Hashable, load: Callable[[], T]) -> T:
    cache = getattr(_state, "cache", None)
    if cache is None:
        return load()
    try:
        return cache[key]
    except KeyError:
        value = cache[key] = load()
        return value
