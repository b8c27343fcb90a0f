"""Process-local copies of rows that change rarely and are read on every page or every write (the agents, teams,
categories, custom fields and macros every ticket page offers; the ticket settings every new ticket's priority
comes from and the organisation domains a new customer's address is matched against), dropped in every process
as soon as the rows change.

Each copy is kept under tokens that live in a cache every process shares (``CACHES["shared"]``: Redis when there
is one, else a file cache under VAR_DIR that the machine's processes all read). The services that write those
rows call ``bump`` with the rows' name; once their transaction has committed the name's token is replaced, so the
next use in any process finds its copy outdated and reads the database again. Reading the tokens is one cache
read, in place of the statements the copy saves. (No signal drives this: a write path that does not call
``bump``, a migration or the shell, leaves copies outdated for at most ``MAX_AGE``; so does a process that dies
between the commit and the replacement.)

The tokens are read **before** the rows: a change that commits while a process is reading them replaces a token
after that read, so rows read before the change are never kept under the token that follows it.
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
_kept: dict[tuple[str, ...], tuple[tuple[str, ...], float, object]] = {}


def _cache():
    return caches["shared" if "shared" in settings.CACHES else "default"]


def tokens(names: tuple[str, ...]) -> tuple[str, ...]:
    """The current token of each name, in one cache read; a new one for a name the shared cache has none of
    (first use, eviction, restart)."""
    cache = _cache()
    keys = [KEY.format(name) for name in names]
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, uuid.uuid4().hex, timeout=None)
            found[key] = cache.get(key)
    # A cache that keeps nothing: a token no copy has, so none is reused.
    return tuple(found[key] or uuid.uuid4().hex for key in keys)


def token(name: str) -> str:
    return tokens((name,))[0]


class _Bump:
    """The commit callback of ``bump``: a new token for ``name``."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self) -> None:
        _cache().set(KEY.format(self.name), uuid.uuid4().hex, timeout=None)


def bump(name: str) -> None:
    """Outdate every process's copies of ``name``'s rows once the current transaction commits (at once outside
    one). Called by each service that writes those rows."""
    transaction.on_commit(_Bump(name))


def _pending(names: tuple[str, ...]) -> bool:
    """Whether the open transaction has changed rows of ``names``: until it commits, it reads them itself (a copy
    kept from them would outlive a rollback)."""
    connection = transaction.get_connection()
    return connection.in_atomic_block and any(isinstance(callback, _Bump) and callback.name in names
                                              for _savepoints, callback, _robust in connection.run_on_commit)


def kept(names: str | tuple[str, ...], load: Callable[[], T]) -> T:
    """``load()``'s result, reused while the tokens of ``names`` (the rows it reads) are unchanged (one copy per
    ``names``: two copies of the same rows need two names or orders of names). What ``load`` returns is shared by every request of the process: it must not be changed by its readers (return tuples)."""
    names = (names,) if isinstance(names, str) else names
    if _pending(names):
        return load()
    current, now = tokens(names), time.monotonic()
    entry = _kept.get(names)
    if entry is not None and entry[0] == current and now - entry[1] < MAX_AGE:
        return entry[2]  # type: ignore[return-value]
    value = load()
    _kept[names] = (current, now, value)
    return value


def forget() -> None:
    """Drop this process's copies (tests: each starts from the database)."""
    _kept.clear()
