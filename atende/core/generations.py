"""Process-local copies of rows that change rarely and are read on every write (the ticket settings every new
ticket's priority comes from, the organisation domains a new customer's address is matched against), dropped in
every process as soon as the rows change.

Each copy is kept under a token that lives in a cache every process shares (``CACHES["shared"]``: a file cache under
VAR_DIR on SQLite, where every process is on one machine, and Redis on PostgreSQL when there is one). The services that change the rows call ``bump`` in
their transaction (no Django signals: services publish their changes); once it commits the token is replaced, so
the next use in any process finds its copy's token outdated and reads the database again. Reading a token is one
cache read, in place of the statements the copy saves.

The token is read **before** the rows: a change that commits while a process is reading them replaces the token
after that read, so rows read before the change are never kept under the token that follows it.

A copy is also read again once it is ``MAX_AGE`` seconds old: the token is replaced after the commit, so a process
that dies between the two, or a write that bypasses the services (a migration, the shell), leaves copies outdated
for at most that long.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

T = TypeVar("T")
KEY = "atende:generation:{}"
MAX_AGE = 300.0  # seconds
_kept: dict[str, tuple[str, float, object]] = {}


def _cache():
    return caches["shared" if "shared" in settings.CACHES else "default"]


def token(name: str) -> str:
    """The current token of ``name``; a new one when the shared cache has none (first use, eviction, restart)."""
    cache, key = _cache(), KEY.format(name)
    current = cache.get(key)
    if current is None:
        cache.add(key, uuid.uuid4().hex, timeout=None)
        current = cache.get(key)
    return current or uuid.uuid4().hex  # a cache that keeps nothing: a token no copy has, so none is reused


class _Bump:
    """The commit callback of ``bump``: a new token for ``name``."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self) -> None:
        _cache().set(KEY.format(self.name), uuid.uuid4().hex, timeout=None)


def bump(name: str) -> None:
    """Outdate every process's copy of ``name``, once the current transaction commits (at once outside one)."""
    transaction.on_commit(_Bump(name))


def _pending(name: str) -> bool:
    """Whether the open transaction has changed ``name``'s rows: until it commits, it reads them itself (a copy
    kept from them would outlive a rollback)."""
    connection = transaction.get_connection()
    return connection.in_atomic_block and any(isinstance(callback, _Bump) and callback.name == name
                                              for _savepoints, callback, _robust in connection.run_on_commit)


def kept(name: str, load: Callable[[], T]) -> T:
    """``load()``'s result, reused while ``name``'s token is unchanged. What ``load`` returns is shared by every
    request of the process: it must not be changed by its readers (return tuples)."""
    if _pending(name):
        return load()
    current, now = token(name), time.monotonic()
    entry = _kept.get(name)
    if entry is not None and entry[0] == current and now - entry[1] < MAX_AGE:
        return entry[2]  # type: ignore[return-value]
    value = load()
    _kept[name] = (current, now, value)
    return value


def forget() -> None:
    """Drop this process's copies (tests: each starts from the database)."""
    _kept.clear()
