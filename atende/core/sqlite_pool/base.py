"""Django's SQLite backend with connections kept open between requests (``ENGINE = "atende.core.sqlite_pool"``).

Under ASGI every request runs its synchronous code in a thread of its own, so Django's per-thread persistent
connections (``CONN_MAX_AGE``) cannot be reused, and each request opened the database file, ran the connection
pragmas and re-read the schema: about 5 ms per request, a fifth of a ticket list's time. Here ``close`` puts the
open connection back in a small per-database pool and the next request, on whatever thread, takes it
(Python's ``sqlite3`` connections may move between threads when used by one at a time, which a checked-out
connection is). PostgreSQL gets the same from Django's own pool (``OPTIONS["pool"]``).

A connection that is inside a transaction, has seen errors or is over the pool's size is closed as before.
In-memory databases are never pooled (Django never closes them anyway).
"""

from __future__ import annotations

import queue
import threading

from django.db.backends.sqlite3 import base

POOL_SIZE = 8
_pools: dict[str, queue.LifoQueue] = {}
_pools_lock = threading.Lock()


def _pool_for(name: str) -> queue.LifoQueue:
    with _pools_lock:
        return _pools.setdefault(name, queue.LifoQueue(maxsize=POOL_SIZE))


def pooled_connections(name: str) -> int:
    """How many idle connections to ``name`` are waiting in the pool (for tests and diagnostics)."""
    return _pool_for(str(name)).qsize()


def pool_close(name: str) -> None:
    """Close the idle connections to ``name`` (before replacing the database file, and after tests)."""
    pool = _pool_for(str(name))
    while True:
        try:
            pool.get_nowait().close()
        except queue.Empty:
            return


class DatabaseWrapper(base.DatabaseWrapper):
    def _pool(self) -> queue.LifoQueue | None:
        return None if self.is_in_memory_db() else _pool_for(str(self.settings_dict["NAME"]))

    def get_new_connection(self, conn_params):
        pool = self._pool()
        if pool is not None:
            try:
                return pool.get_nowait()
            except queue.Empty:
                pass
        return super().get_new_connection(conn_params)

    def _close(self):
        connection, pool = self.connection, self._pool()
        if connection is None or pool is None or connection.in_transaction or self.errors_occurred:
            return super()._close()
        try:
            pool.put_nowait(connection)
        except queue.Full:
            return super()._close()
