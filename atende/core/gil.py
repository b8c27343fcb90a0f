"""How long a thread keeps the interpreter while another waits for it (``sys.setswitchinterval``).

A web process runs its requests in threads that go to the database and Redis many times each; every time a
thread comes back from a call that released the interpreter's lock, it waits for the thread that holds it to
give it up, which a running thread does only after the switch interval (CPython's default: 5 ms). In the
benchmark's peak (100 API requests a second on two cores) the web's request threads spent much of their time on
the line after such calls. With 0.5 ms, SQLite's web process kept up better (85.3–94.3 tickets/s reached against
76.9–92.3 in three alternated pairs); on PostgreSQL it made no difference (docs/benchmarks.md).
``GIL_SWITCH_INTERVAL_MS`` chooses the interval for the web, worker and scheduler processes; ``0`` keeps the
interpreter's.
"""

from __future__ import annotations

import os
import sys

DEFAULT_MS = 0.5


def switch_interval_ms() -> float | None:
    """The configured interval in milliseconds, or None for the interpreter's own."""
    raw = os.environ.get("GIL_SWITCH_INTERVAL_MS", "").strip()
    if not raw:
        return DEFAULT_MS
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"GIL_SWITCH_INTERVAL_MS must be a number of milliseconds, not {raw!r}.") from None
    if value < 0:
        raise ValueError(f"GIL_SWITCH_INTERVAL_MS must not be negative, not {raw!r}.")
    return value or None


def tune() -> float:
    """Set the process's switch interval from the environment; returns the interval in force, in seconds."""
    chosen = switch_interval_ms()
    if chosen is not None:
        sys.setswitchinterval(chosen / 1000)
    return sys.getswitchinterval()
