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


def _someone_waits(name: str) -> bool:
    """Whether a writer is waiting for its turn: a thread of this process in its line, or one of another process
    (it holds the wake-up FIFO open)."""
    from atende.core.sqlite_pool.writers import turns_for

    if turns_for(name).line.waiting():
        return True
    try:
        os.close(os.open(f"{name}-writers.wake", os.O_WRONLY | os.O_NONBLOCK))
        return True
    except OSError:
        return False


def _holder_hands_over_then_writes_again(handler, name, waiter) -> list[str]:
    """The events worker's pattern: a writer commits and at once begins its next transaction, while ``waiter``
    (another thread) waits for its turn. Returns the order the rows were written in."""
    import time

    connection = handler["default"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE t (x text)")
    done = threading.Event()
    thread = threading.Thread(target=lambda: (waiter(), done.set()))
    with _AtomicOn(connection):
        connection.cursor().execute("INSERT INTO t VALUES ('first')")
        thread.start()
        deadline = time.monotonic() + 5
        while not _someone_waits(name) and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(0.05)  # the waiter is asleep on its wait, whatever that is
    with _AtomicOn(connection):
        connection.cursor().execute("INSERT INTO t VALUES ('again')")
    thread.join(10)
    assert done.is_set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT x FROM t ORDER BY rowid")
        return [x for (x,) in cursor.fetchall()]


def test_a_waiting_writer_gets_its_turn_before_the_holder_takes_it_again(handler, monkeypatch):
    handler, name = handler
    # However slowly the waiter is scheduled on a busy machine, the holder lets it go first.
    monkeypatch.setattr("atende.core.sqlite_pool.writers.HANDOVER_SECONDS", 5.0, raising=False)

    def waiter():
        connection = handler["default"]
        with _AtomicOn(connection):
            connection.cursor().execute("INSERT INTO t VALUES ('waiter')")
        connection.close()

    assert _holder_hands_over_then_writes_again(handler, name, waiter) == ["first", "waiter", "again"]
    assert _turn_is_free(name)


def test_a_write_outside_a_transaction_takes_its_turn_too(handler, monkeypatch):
    """An autocommit write (``QuerySet.update`` outside ``atomic``) waits in the same line, not on SQLite's busy
    handler, whose sleeps let the holder write again first."""
    handler, name = handler
    monkeypatch.setattr("atende.core.sqlite_pool.writers.HANDOVER_SECONDS", 5.0, raising=False)

    def waiter():
        connection = handler["default"]
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES (%s)", ["autocommit"])
        connection.close()

    assert _holder_hands_over_then_writes_again(handler, name, waiter) == ["first", "autocommit", "again"]
    assert _turn_is_free(name)


def test_a_release_without_waiters_lets_the_writer_go_on_at_once(handler):
    """No handover wait when nobody waits: a writer alone takes turn after turn without waiting."""
    from atende.core.sqlite_pool.writers import turns_for

    handler, name = handler
    connection = handler["default"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE t (x integer)")
    turns = turns_for(name)
    before = (turns.taken, turns.waited)
    for i in range(20):
        with _AtomicOn(connection):
            connection.cursor().execute("INSERT INTO t VALUES (%s)", [i])
    assert (turns.taken - before[0], turns.waited - before[1]) == (20, 0)


def _log_frames_not_copied_back(name: str) -> int:
    """Frames of the write-ahead log not yet copied into the database file, read from the wal-index header in
    ``-shm`` (``mxFrame`` at byte 16, ``nBackfill`` at byte 96: https://www.sqlite.org/walformat.html)."""
    import sys

    with open(f"{name}-shm", "rb") as shm:
        head = shm.read(100)
    return int.from_bytes(head[16:20], sys.byteorder) - int.from_bytes(head[96:100], sys.byteorder)


def test_the_log_is_copied_back_every_few_commits_after_the_turn_is_given_back(handler):
    """Not by SQLite inside the commit that passes 1,000 pages, while every other writer waits for the turn."""
    from atende.core.sqlite_pool.base import CHECKPOINT_EVERY

    handler, name = handler
    connection = handler["default"]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("CREATE TABLE t (x text)")
    for i in range(CHECKPOINT_EVERY - 1):
        with _AtomicOn(connection):
            connection.cursor().execute("INSERT INTO t VALUES (%s)", [f"row {i}"])
    assert _log_frames_not_copied_back(name) > 0
    with _AtomicOn(connection):
        connection.cursor().execute("INSERT INTO t VALUES ('the last one')")
    _copied(name, copies=1)
    assert _log_frames_not_copied_back(name) == 0
    assert _turn_is_free(name)


def _copied(name: str, *, copies: int) -> None:
    import time

    from atende.core.sqlite_pool.base import checkpointer_for

    deadline = time.monotonic() + 10
    while checkpointer_for(name).copies < copies and time.monotonic() < deadline:
        time.sleep(0.01)
    assert checkpointer_for(name).copies == copies


def test_the_committing_thread_does_not_copy_the_log_back_itself(handler, monkeypatch):
    """The copy takes tens of milliseconds at a desk's size: the request or worker that passed the count goes on,
    and the process's checkpoint thread copies with a connection of its own."""
    from atende.core.sqlite_pool import base

    handler, name = handler
    connection = handler["default"]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("CREATE TABLE t (x text)")
    raw = connection.connection
    threads = []
    monkeypatch.setattr(base.sqlite3, "connect", lambda *args, real=base.sqlite3.connect, **kwargs: (
        threads.append(threading.current_thread()), real(*args, **kwargs))[1])
    statements = []
    raw.set_trace_callback(statements.append)
    for i in range(base.CHECKPOINT_EVERY):
        with _AtomicOn(connection):
            connection.cursor().execute("INSERT INTO t VALUES (%s)", [f"row {i}"])
    _copied(name, copies=1)
    assert not [s for s in statements if "wal_checkpoint" in s]
    assert threads and threading.current_thread() not in threads
    assert _log_frames_not_copied_back(name) == 0


def test_a_writer_waits_for_its_turn_with_descriptors_numbered_past_1024(tmp_path):
    """A web process holding a thousand websockets opens the writers' files past ``select``'s limit of 1024."""
    import resource

    from atende.core.sqlite_pool.writers import WriterTurns

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1300:
        pytest.skip("the process may not open 1,300 files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1300), hard))
    filler = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        # Two processes' turns on one file (within one process, threads queue in its line first).
        other, turns = WriterTurns(str(tmp_path / "db.sqlite3")), WriterTurns(str(tmp_path / "db.sqlite3"))
        holder, held = other.acquire(1)
        assert held
        threading.Timer(0.2, other.release, [holder]).start()
        waiter, held = turns.acquire(10)  # waits on the wake-up FIFO, whose descriptor is past 1024
        assert held and waiter > 1024 and turns.waited == 1
        turns.release(waiter)
    finally:
        for fd in filler:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_threads_of_one_process_wait_in_line_and_each_release_wakes_one(tmp_path):
    """Only the thread at the head of the process's line waits on the lock file and its FIFO; the others wait in
    arrival order and each release hands the turn to the next one alone."""
    import time

    from atende.core.sqlite_pool.writers import WriterTurns

    turns = WriterTurns(str(tmp_path / "db.sqlite3"))
    order, fifo_openers = [], []
    real_open = os.open

    def counting_open(path, flags, *args):
        if str(path).endswith("-writers.wake") and flags & os.O_RDWR:
            fifo_openers.append(threading.current_thread().name)  # a waiter polling the FIFO
        return real_open(path, flags, *args)

    holder, held = turns.acquire(1)
    assert held

    def writer(n):
        fd, got = turns.acquire(10)
        order.append(n)
        time.sleep(0.01)
        turns.release(fd, got)

    os.open = counting_open
    try:
        threads = []
        for n in range(5):
            threads.append(threading.Thread(target=writer, args=(n,), name=f"w{n}"))
            threads[-1].start()
            deadline = time.monotonic() + 5
            while turns.line.waiting() < n + 1 and time.monotonic() < deadline:
                time.sleep(0.001)
        assert turns.line.waiting() == 5
        turns.release(holder)
        for thread in threads:
            thread.join(10)
    finally:
        os.open = real_open
    assert order == [0, 1, 2, 3, 4]  # arrival order
    assert fifo_openers == []  # nobody of this process polled the FIFO: the line handed the turn over
    assert turns.line.waiting() == 0
    fd, held = turns.acquire(0.1)  # and the turn is free again
    assert held
    turns.release(fd)


def test_a_thread_that_gives_up_waiting_in_line_leaves_it(tmp_path):
    from atende.core.sqlite_pool.writers import WriterTurns

    turns = WriterTurns(str(tmp_path / "db.sqlite3"))
    holder, held = turns.acquire(1)
    fd, got = turns.acquire(0.05)
    assert not got and turns.line.waiting() == 0
    turns.release(fd, got)
    turns.release(holder)
    fd, got = turns.acquire(0.1)
    assert got
    turns.release(fd)


def test_a_process_hands_over_once_it_held_the_lock_its_share_not_after_every_short_turn(tmp_path, monkeypatch):
    """With another process waiting, short turns (a web request's ticket) go on until they add up to
    ``SHARE_SECONDS`` since that process last had a turn; then the next one waits for it (``_handed``). A long
    turn (a pass of the events worker) hands over at once."""
    import types

    from atende.core.sqlite_pool import writers

    name = str(tmp_path / "db.sqlite3")
    web, worker = writers.WriterTurns(name), writers.WriterTurns(name)
    clock = [1000.0]
    fake = types.SimpleNamespace(monotonic=lambda: clock[0], sleep=lambda s: clock.__setitem__(0, clock[0] + s))
    monkeypatch.setattr(writers, "time", fake)  # the hand-over's wait passes in the fake clock
    assert web._fifo()
    waiting = os.open(f"{name}-writers.wake", os.O_RDONLY | os.O_NONBLOCK)  # another process polls the FIFO
    try:
        handed = []
        for _ in range(6):
            fd, held = web.acquire(1)
            clock[0] += 0.003  # a 3 ms turn
            web.release(fd, held)
            handed.append(web._handed is not None)
        assert handed == [False, False, False, True, False, False]  # 12 ms held: the share is used up
        web._handed = None
        fd, held = worker.acquire(1)  # the other process has its turn: the web's count starts again
        clock[0] += 0.030
        worker.release(fd, held)
        assert worker._handed is not None  # a long turn hands over at once
        fd, held = web.acquire(1)
        clock[0] += 0.003
        web.release(fd, held)
        assert web._handed is None
    finally:
        os.close(waiting)
