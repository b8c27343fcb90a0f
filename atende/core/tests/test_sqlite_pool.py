"""The pooled SQLite backend: connections outlive a request and move to the next request's thread."""

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
