"""Writers' turns on one SQLite file, shared by every thread and process that uses it.

SQLite lets one transaction write at a time; the others retry on its busy handler, which sleeps 1, 2, 5 … up to
100 ms between tries. Here a writer first takes an exclusive ``flock`` on ``<database>-writers.lock`` (the kernel
drops it when a process dies), so SQLite's own wait is never reached in normal operation. Two things make the
turns prompt and fair:

- **A waiter is woken by the release, not by a timer.** A writer that finds the lock taken opens the FIFO
  ``<database>-writers.wake`` and sleeps in ``poll`` on it; a writer giving its turn back writes a byte there if
  anyone has it open (opening it without a reader fails at once, so an uncontended release costs one failed
  ``open``). A byte written between a waiter's failed try and its ``poll`` stays in the pipe, so no wake-up is
  lost; the waiter also looks again every ``SAFETY_POLL`` seconds whatever happens.
- **A writer that just handed over lets the waiters go first.** The events worker commits batch after batch,
  and before this it took the lock again microseconds after giving it back, while the waiting web request or
  ticket creation was still being scheduled: it could wait for many batches. Each turn taken bumps a counter in
  the lock file; a writer whose release found waiters does not take the lock again until the counter moved
  (someone else had a turn) or ``HANDOVER_SECONDS`` passed (the waiter gave up or is gone). A process hands over
  once it has held the lock ``SHARE_SECONDS`` in all since another process last had a turn, not after every
  turn: a turn for turn alternation gave a web process one ticket (2 ms) per pass of the events worker (tens
  of ms), and under a peak the requests queued for seconds while the worker kept up.

Inside one process the threads queue first (``_LocalLine``), so only the thread at the head of the line waits on
the lock file and the FIFO: a web process under a peak has dozens of request threads waiting to write, and when all
of them polled the FIFO each release woke every one of them, each needing the interpreter's lock while the new
holder needed it too (its turn stretched to several times its own work, and the events worker, waiting behind
them, got a third of a core). The line hands the process's turn to its next thread directly, one wake-up each,
in arrival order, so a thread that just wrote does not overtake the threads waiting behind it either.

After the database ``timeout`` a waiting writer goes on to SQLite's busy timeout, so a stuck writer still ends
in "database is locked" (a 503 to API clients), never a hang. Where FIFOs cannot be made (some network file
systems), waiters poll the lock every fraction of a millisecond instead.
"""

from __future__ import annotations

import collections
import fcntl
import os
import select
import stat
import threading
import time

SAFETY_POLL = 0.05
HANDOVER_SECONDS = 0.005
SHARE_SECONDS = 0.010
_HANDOVER_STEP = 0.0001
_POLL_MIN, _POLL_MAX = 0.0002, 0.002


class _LocalLine:
    """This process's writers in arrival order: ``enter`` returns once every thread that came before has left
    (or ``timeout`` passed: False); ``leave`` wakes the next one only. Any thread may ``leave`` for another (a
    turn is given back by whoever holds the connection)."""

    def __init__(self):
        self._mutex = threading.Lock()
        self._busy = False
        self._waiting: collections.deque[threading.Event] = collections.deque()

    def enter(self, timeout: float) -> bool:
        with self._mutex:
            if not self._busy and not self._waiting:
                self._busy = True
                return True
            mine = threading.Event()
            self._waiting.append(mine)
        if mine.wait(timeout):
            return True  # handed over by ``leave``: the line is ours
        with self._mutex:
            if mine.is_set():
                return True  # handed over just as the wait ended
            self._waiting.remove(mine)
            return False

    def leave(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().set()  # still busy: it is the next thread's now
            else:
                self._busy = False

    def waiting(self) -> int:
        with self._mutex:
            return len(self._waiting)


class WriterTurns:
    """The turns on one database file, for this process (``turns_for``)."""

    def __init__(self, database: str):
        self.line = _LocalLine()
        self.lock_path = f"{database}-writers.lock"
        self.wake_path = f"{database}-writers.wake"
        self._fifo_ok: bool | None = None
        self._mutex = threading.Lock()
        self._handed: tuple[int, float] | None = None  # (turn counter, monotonic time) of a release with waiters
        # The lock held by this process since another one last had a turn: the counter this process last left
        # and the seconds held (``release``), and when the current turn was taken.
        self._share: tuple[int, float] = (-1, 0.0)
        self._taken_at = 0.0
        # Counts, for diagnostics and tests: turns taken at once, after waiting, and waits given up.
        self.taken = self.waited = self.gave_up = 0
        self._commits = 0

    def commit_counted(self, every: int) -> bool:
        """Count a commit of this process; True once every ``every`` commits (time for a checkpoint)."""
        with self._mutex:
            self._commits += 1
            if self._commits < every:
                return False
            self._commits = 0
            return True

    # -- the turn counter in the lock file (only the holder writes it) -------------------------------------------

    @staticmethod
    def _counter(fd: int) -> int:
        return int.from_bytes(os.pread(fd, 8, 0).ljust(8, b"\0"), "little")

    def _took(self, fd: int) -> None:
        os.pwrite(fd, ((self._counter(fd) + 1) % 2**63).to_bytes(8, "little"), 0)
        self._taken_at = time.monotonic()

    # -- the wake-up FIFO ----------------------------------------------------------------------------------------

    def _fifo(self) -> bool:
        if self._fifo_ok is None:
            try:
                os.mkfifo(self.wake_path, 0o600)
            except FileExistsError:
                pass
            except OSError:
                self._fifo_ok = False
                return False
            try:
                self._fifo_ok = stat.S_ISFIFO(os.stat(self.wake_path).st_mode)
            except OSError:
                self._fifo_ok = False
        return self._fifo_ok

    def _signal(self) -> bool:
        """Wake a waiter, if any has the FIFO open. True when there was one."""
        if not self._fifo():
            return False
        try:
            fd = os.open(self.wake_path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return False  # ENXIO: no reader, nobody waits
        try:
            os.write(fd, b"w")
        except BlockingIOError:
            pass  # the pipe is full of wake-ups already
        except OSError:
            return False  # EPIPE: the last waiter left between the open and the write
        finally:
            os.close(fd)
        return True

    # -- taking and giving back a turn ---------------------------------------------------------------------------

    @staticmethod
    def _try(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _let_waiters_go_first(self, fd: int) -> None:
        with self._mutex:
            handed = self._handed
        if handed is None:
            return
        counter, at = handed
        while time.monotonic() < at + HANDOVER_SECONDS and self._counter(fd) == counter:
            time.sleep(_HANDOVER_STEP)
        with self._mutex:
            if self._handed == handed:
                self._handed = None

    def acquire(self, timeout: float) -> tuple[int, bool]:
        """Open the lock file and take the turn, waiting up to ``timeout`` seconds. Returns the descriptor (give
        it to ``release``) and whether the turn was taken (False: SQLite's busy timeout decides from here)."""
        deadline = time.monotonic() + timeout
        if not self.line.enter(timeout):
            self.gave_up += 1
            return os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600), False
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except BaseException:
            self.line.leave()
            raise
        try:
            self._let_waiters_go_first(fd)
            if self._try(fd):
                self.taken += 1
                self._took(fd)
                return fd, True
            if self._wait(fd, deadline):
                self.waited += 1
                self._took(fd)
                return fd, True
            self.gave_up += 1
            self.line.leave()
            return fd, False
        except BaseException:
            os.close(fd)
            self.line.leave()
            raise

    def _wait(self, fd: int, deadline: float) -> bool:
        wake = None
        if self._fifo():
            try:
                # Read and write: a FIFO whose last writer closed reads as end-of-file and would wake poll at
                # once, for ever; holding a write end ourselves keeps it a plain empty pipe.
                wake = os.open(self.wake_path, os.O_RDWR | os.O_NONBLOCK)
            except OSError:
                wake = None
        pause = _POLL_MIN
        poller = None
        if wake is not None:  # poll, not select: a web process holding a thousand sockets has descriptors past 1024
            poller = select.poll()
            poller.register(wake, select.POLLIN)
        try:
            while True:
                if self._try(fd):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                if poller is None:
                    time.sleep(min(pause, left))
                    pause = min(pause * 2, _POLL_MAX)
                    continue
                if poller.poll(min(SAFETY_POLL, left) * 1000):
                    try:
                        os.read(wake, 512)
                    except BlockingIOError:
                        pass
        finally:
            if wake is not None:
                os.close(wake)

    def release(self, fd: int, held: bool = True) -> None:
        """Give the turn back (closing the descriptor releases the lock) and wake a waiter."""
        if not held:
            os.close(fd)
            return
        counter = self._counter(fd)
        os.close(fd)
        waiters = self._signal()
        now = time.monotonic()
        with self._mutex:
            last, held = self._share
            # Our previous release left ``last``; one more taken since (ours) means nobody else had a turn.
            held = (held if counter == (last + 1) % 2**63 else 0.0) + (now - self._taken_at)
            if waiters and held >= SHARE_SECONDS:
                self._handed, self._share = (counter, now), (counter, 0.0)
            else:
                self._handed, self._share = None, (counter, held)
        self.line.leave()


_turns: dict[str, WriterTurns] = {}
_turns_lock = threading.Lock()


def turns_for(database: str) -> WriterTurns:
    with _turns_lock:
        turns = _turns.get(database)
        if turns is None:
            turns = _turns[database] = WriterTurns(database)
        return turns
