"""The pooled SQLite backend: connections outlive a request and move to the next request's thread."""

import fcntl
import os
import threading

import pytest
from django.db.utils import ConnectionHandler, OperationalError

from atende.core.sqlite_pool.base import pool_close, pooled_connections


@pytest.fixture
def handler(tmp_path, django_db_blocker):
    """A database of its own (a file: in-memory ones are never pooled), outside the test database."""
    name = str(tmp_path / "pool.sqlite3")
    handler = ConnectionHandler({"default": {"ENGINE": "atende.core.sqlite_pool", "NAME": name}})
    with django_db_blocker.unblock():
        yield handler, name
        handler.close_all()
    pool_close(name)


def _raw(connection):
    with connection.cursor():
        return connection.connection


def test_a_closed_connection_is_reused_by_the_next_request_on_another_thread(handler):
    handler, name = handler
    first = _raw(handler["default"])
    handler["default"].close()
    assert pooled_connections(name) == 1
    reused = {}

    def request():  # a new thread, as each ASGI request is
        connection = handler["default"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            reused["raw"] = connection.connection
        connection.close()

    thread = threading.Thread(target=request)
    thread.start()
    thread.join()
    assert reused["raw"] is first and pooled_connections(name) == 1


def test_a_connection_closed_inside_a_transaction_or_after_an_error_is_not_pooled(handler):
    handler, name = handler
    connection = handler["default"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE t (x integer)")
    connection.connection.execute("BEGIN")
    connection.connection.execute("INSERT INTO t VALUES (1)")
    connection.close()
    assert pooled_connections(name) == 0
    connection = handler["default"]
    with pytest.raises(OperationalError):
        with connection.cursor() as cursor:
            cursor.execute("SELECT nothing FROM nowhere")
    connection.close()
    assert pooled_connections(name) == 0
    with handler["default"].cursor() as cursor:  # the uncommitted insert was rolled back with its connection
        cursor.execute("SELECT count(*) FROM t")
        assert cursor.fetchone() == (0,)


def _turn_is_free(name: str) -> bool:
    """Whether a writer could take its turn now (a non-blocking try on the writers' lock file)."""
    fd = os.open(f"{name}-writers.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_a_writer_holds_its_turn_for_its_transaction_only_whatever_the_outcome(handler):
    handler, name = handler
    connection = handler["default"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE t (x integer)")
    with _AtomicOn(connection):
        connection.cursor().execute("INSERT INTO t VALUES (1)")
        assert not _turn_is_free(name)
    assert _turn_is_free(name)
    with pytest.raises(RuntimeError, match="fails"), _AtomicOn(connection):
        connection.cursor().execute("INSERT INTO t VALUES (2)")
        assert not _turn_is_free(name)
        raise RuntimeError("the write fails")
    assert _turn_is_free(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT x FROM t")
        assert cursor.fetchall() == [(1,)]


class _AtomicOn:
    """What ``transaction.atomic`` does to a connection of this test's own handler: begin, then commit or roll
    back."""

    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        self.connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.connection.commit()
        else:
            self.connection.rollback()
        self.connection.set_autocommit(True)


def test_many_threads_writing_at_once_all_commit(handler):
    handler, name = handler
    with handler["default"].cursor() as cursor:
        cursor.execute("CREATE TABLE t (x integer)")
    handler["default"].close()
    errors = []

    def writer(n):
        connection = handler["default"]
        try:
            for i in range(25):
                with _AtomicOn(connection):
                    connection.cursor().execute("INSERT INTO t VALUES (%s)", [n * 100 + i])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with handler["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM t")
        assert cursor.fetchone() == (150,)
    assert _turn_is_free(name)
