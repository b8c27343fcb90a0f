"""Test settings: real databases, fast hashing, tasks run immediately unless a test says otherwise."""

import os
import tempfile

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "mail"]}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Events reach the subscribers right after each commit (the dispatcher drained in-process), as a worker would a
# moment later; tests of the dispatcher itself turn this off and drain explicitly.
ATENDE_EVENTS_DRAIN_ON_COMMIT = True
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
          "presence": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "presence"},
          "shared": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "shared"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # No connection pool in the test process. Threads that tests start (ASGI requests, websocket consumers, the
    # event loops of async_to_sync) end with a connection still checked out of the pool, which psycopg_pool never
    # gets back: a long run in one process ran the pool dry and every later test waited 20 s for a connection
    # (PoolTimeout). Without the pool a thread's connection closes when the thread goes. The product's own
    # threads return theirs (request_finished, Channels' database_sync_to_async); servers and workers that tests
    # start in processes of their own keep the pool.
    DATABASES["default"].get("OPTIONS", {}).pop("pool", None)  # noqa: F405
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":  # noqa: F405
    # SQLite: a test database in a file (in memory where the machine has /dev/shm), never ``:memory:``. With an
    # in-memory database Django hands the test thread's one connection to the live server's request threads, and
    # two threads using one SQLite connection at once fail with "database table is locked"; in a file every thread
    # has its own connection, WAL and the busy timeout, as in production.
    _scratch = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(_scratch, f"atende-test-{os.getpid()}.sqlite3")}  # noqa: F405
