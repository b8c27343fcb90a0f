"""Django's SQLite backend with connections kept open between requests (``ENGINE = "atende.core.sqlite_pool"``).

Under ASGI every request runs its synchronous code in a thread of its own, so Django's per-thread persistent
connections (``CONN_MAX_AGE``) cannot be reused, and each request opened the database file, ran the connection
pragmas and re-read the schema: about 5 ms per request, a fifth of a ticket list's time. Here ``close`` puts the
open connection back in a small per-database pool and the next request, on whatever thread, takes it
(Python's ``sqlite3`` connections may move between threads when used by one at a time, which a checked-out
connection is). PostgreSQL gets the same from Django's own pool (``OPTIONS["pool"]``).

A connection that is inside a transaction, has seen errors or is over the pool's size is closed as before.
In-memory databases are never pooled (Django never closes them anyway).

Writers also take turns here (``writers.WriterTurns``): before ``BEGIN IMMEDIATE`` a writer takes an exclusive
``flock`` on ``<database>-writers.lock`` and gives it back at commit or rollback, and a waiting writer is woken by
that release instead of sleeping on SQLite's busy handler (1, 2, 5 … up to 100 ms between tries). A statement
that writes outside a transaction (Django's autocommit: ``QuerySet.update`` or ``Model.save`` outside ``atomic``)
takes its turn for that statement too, so it never meets the busy handler either.

Checkpoints happen outside the turn. SQLite copies the write-ahead log back into the database file (and syncs
both) inside the ``COMMIT`` that passes ``wal_autocheckpoint`` pages, and that commit returned, giving the turn
back, only afterwards: every waiting writer waited for the copy too (commit p99 20-50 ms at 20,000 tickets, a
fifth of ticket creation's time holding the turn). Here every ``CHECKPOINT_EVERY`` commits of a process, a
``PASSIVE`` checkpoint runs after the turn is given back (it never blocks writers), on a thread of the process's
own with a connection of its own: the committing request or worker goes on at once instead of spending the copy's
tens of milliseconds (SQLite leaves Python's lock while it copies). SQLite's own automatic checkpoint stays as a
backstop at ``WAL_AUTOCHECKPOINT_PAGES``.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
from functools import partial

from django.db.backends.sqlite3 import base

from atende.core.sqlite_pool.writers import turns_for

POOL_SIZE = 8
CHECKPOINT_EVERY = 50
WAL_AUTOCHECKPOINT_PAGES = 10_000
_pools: dict[str, queue.LifoQueue] = {}
_pools_lock = threading.Lock()


def _pool_for(name: str) -> queue.LifoQueue:
    with _pools_lock:
        return _pools.setdefault(name, queue.LifoQueue(maxsize=POOL_SIZE))


def pooled_connections(name: str) -> int:
    """How many idle connections to ``name`` are waiting in the pool (for tests and diagnostics)."""
    return _pool_for(str(name)).qsize()


class _Checkpointer:
    """The thread that copies ``name``'s write-ahead log back when asked (``request``), with its own connection.
    Requests made while a copy runs are served by one more copy. Started on first use in each process."""

    def __init__(self, name: str):
        self.name, self.copies = name, 0
        self._wanted, self._mutex, self._starting = threading.Event(), threading.Lock(), threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0

    def request(self) -> None:
        if self._pid != os.getpid():  # first use here (a thread does not survive a fork)
            with self._starting:  # not the copy's lock: a commit never waits for a copy
                if self._pid != os.getpid():
                    self._connection = None
                    threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True).start()
                    self._pid = os.getpid()
        self._wanted.set()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            with self._mutex:
                try:
                    if self._connection is None:
                        self._connection = sqlite3.connect(self.name, check_same_thread=False)
                    self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except Exception:  # noqa: BLE001 - a checkpoint is housekeeping; SQLite's backstop remains
                    pass
                self.copies += 1

    def close(self) -> None:
        with self._mutex:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


_checkpointers: dict[str, _Checkpointer] = {}


def checkpointer_for(name: str) -> _Checkpointer:
    with _pools_lock:
        return _checkpointers.setdefault(name, _Checkpointer(name))


def pool_close(name: str) -> None:
    """Close the idle connections to ``name`` (before replacing the database file, and after tests)."""
    checkpointer_for(str(name)).close()
    pool = _pool_for(str(name))
    while True:
        try:
            pool.get_nowait().close()
        except queue.Empty:
            return


_READS = ("SELECT", "EXPLAIN", "PRAGMA", "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE")


def _writes(query: str) -> bool:
    return not query.lstrip()[:9].upper().startswith(_READS)


class TurnTakingCursor(base.SQLiteCursorWrapper):
    """A statement that writes while the connection is in autocommit (not inside ``atomic``) takes the writers'
    turn for its own implicit transaction."""

    def __init__(self, connection, wrapper: DatabaseWrapper):
        super().__init__(connection)
        self.wrapper = wrapper

    def _alone(self) -> bool:
        return not self.connection.in_transaction and self.wrapper._writer_fd is None

    def _run(self, run, query, params):
        if not self._alone() or not _writes(query):
            return run(query, params)
        self.wrapper._writer_turn()
        try:
            return run(query, params)
        finally:
            self.wrapper._writer_done()

    def execute(self, query, params=None):
        return self._run(super().execute, query, params)

    def executemany(self, query, param_list):
        return self._run(super().executemany, query, param_list)


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_fd: int | None = None
    _writer_held = False

    def _writer_turn(self) -> None:
        if self.is_in_memory_db() or self._writer_fd is not None:
            return
        turns = turns_for(str(self.settings_dict["NAME"]))
        self._writer_fd, self._writer_held = turns.acquire(float(self.settings_dict["OPTIONS"].get("timeout", 20)))

    def _writer_done(self) -> None:
        fd, self._writer_fd = self._writer_fd, None
        if fd is not None:
            turns_for(str(self.settings_dict["NAME"])).release(fd, self._writer_held)

    def create_cursor(self, name=None):
        if self.is_in_memory_db():
            return super().create_cursor(name)
        return self.connection.cursor(factory=partial(TurnTakingCursor, wrapper=self))

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
            self._checkpoint_if_due()

    def _checkpoint_if_due(self) -> None:
        if self.connection is None or self.is_in_memory_db():
            return
        name = str(self.settings_dict["NAME"])
        if turns_for(name).commit_counted(CHECKPOINT_EVERY):
            checkpointer_for(name).request()

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
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            connection.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        return connection

    def _close(self):
        self._writer_done()
        connection, pool = self.connection, self._pool()
        if connection is None or pool is None or connection.in_transaction or self.errors_occurred:
            return super()._close()
        try:
            pool.put_nowait(connection)
        except queue.Full:
            return super()._close()
