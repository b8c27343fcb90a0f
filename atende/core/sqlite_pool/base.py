"""Django's SQLite backend with connections kept open between requests (``ENGINE = "atende.core.sqlite_pool"``).

Under ASGI every request runs its synchronous code in a thread of its own, so Django's per-thread persistent
connections (``CONN_MAX_AGE``) cannot be reused, and each request opened the database file, ran the connection
pragmas and re-read the schema: about 5 ms per request, a fifth of a ticket list's time. Here ``close`` puts the
open connection back in a small per-database pool and the next request, on whatever thread, takes it
(Python's ``sqlite3`` connections may move between threads when used by one at a time, which a checked-out
connection is). PostgreSQL gets the same from Django's own pool (``OPTIONS["pool"]``).

A connection that is inside a transaction, has seen errors or is over the pool's size is closed as before.
In-memory databases are never pooled (Django never closes them anyway).

Writers also take turns here. SQLite lets one transaction write at a time and makes the others retry on its busy
handler, which sleeps 1, 2, 5 … up to 100 ms between tries: under a peak (web requests and the events worker
writing at once) most of a waiting writer's time was those sleeps, and its p99 was ~200 ms for a 2 ms write.
Before ``BEGIN IMMEDIATE`` a writer takes an exclusive ``flock`` on ``<database>-writers.lock`` (shared by every
thread and process using the file; the kernel drops it when a process dies), polling every fraction of a
millisecond, and gives it back at commit or rollback. After ``timeout`` seconds of waiting it goes on to SQLite's
own busy timeout, so a stuck writer still ends in "database is locked" (a 503 to API clients), never a hang.
"""

from __future__ import annotations

import fcntl
import os
import queue
import threading
import time

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
    _writer_fd: int | None = None

    def _writer_turn(self) -> None:
        if self.is_in_memory_db() or self._writer_fd is not None:
            return
        fd = os.open(f"{self.settings_dict['NAME']}-writers.lock", os.O_RDWR | os.O_CREAT, 0o600)
        deadline, pause = time.monotonic() + float(self.settings_dict["OPTIONS"].get("timeout", 20)), 0.0002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    break  # SQLite's busy timeout decides from here
                time.sleep(pause)
                pause = min(pause * 2, 0.002)
        self._writer_fd = fd

    def _writer_done(self) -> None:
        fd, self._writer_fd = self._writer_fd, None
        if fd is not None:
            os.close(fd)  # releases the flock

    def _start_transaction_under_autocommit(self):
        self._writer_turn()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._writer_done()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._writer_done()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._writer_done()

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
        self._writer_done()
        connection, pool = self.connection, self._pool()
        if connection is None or pool is None or connection.in_transaction or self.errors_occurred:
            return super()._close()
        try:
            pool.put_nowait(connection)
        except queue.Full:
            return super()._close()
