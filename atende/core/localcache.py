"""A cache every process of one machine shares, for small short-lived entries (live chat's presence).

Without Redis the default cache is process memory, which is right for what one process reads back (counts,
branding) but not for presence: the web process records who is connected, and the events worker, a process of
its own (``atende serve``), must read it (does the visitor still have the widget open, or does an agent's reply
go by email?). This is Django's file-based cache under ``VAR_DIR/cache/<name>``, with one change: it sweeps its
directory for entries over ``MAX_ENTRIES`` at most once a minute instead of on every write (each sweep lists every
file; presence writes on every connection, heartbeat and goodbye). Expired entries are removed when read, and
presence entries expire a minute after their last heartbeat.
"""

from __future__ import annotations

import time

from django.core.cache.backends.filebased import FileBasedCache

CULL_EVERY_SECONDS = 60.0


class LocalSharedCache(FileBasedCache):
    def __init__(self, dir, params):  # noqa: A002 - Django's name for the location
        self._constructing = True
        super().__init__(dir, params)
        self._constructing = False
        self._last_cull = 0.0

    def _createdir(self) -> None:
        """Not when the cache object is built: Django builds one per request (per thread or async context), and
        its constructor changed the process's umask and made the directory each time (syscalls on every ticket
        created, since the generation tokens live here). Writing makes it, as Django does before every write
        (the directory may be deleted at any time); reading a missing directory finds nothing."""
        if not self._constructing:
            super()._createdir()

    def _cull(self) -> None:
        now = time.monotonic()
        if now - self._last_cull < CULL_EVERY_SECONDS:
            return
        self._last_cull = now
        super()._cull()
