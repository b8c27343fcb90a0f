"""Django's Redis cache with its connection pools shared by every thread of the process.

Django keeps one cache object per thread, and each builds its own Redis client and pool. Under ASGI every
request runs in a new thread, so each request opened a new TCP connection to Redis (15% of a ticket list's
time in the benchmark). Here the clients, and with them the pools (redis-py's are thread-safe), are shared
per (servers, options).

The pool blocks when all its connections are busy (``redis.BlockingConnectionPool``, 100 connections, waiting
up to 20 s) instead of redis-py's default of raising "Too many connections": under a peak more than a hundred
request threads may touch the cache at once (throttle counts, presence), and the default turned that into
500 errors (benchmarks, peak run of 2026-12-06).

Each pool's ``redis.Redis`` client is built once too: Django builds a new one for every cache call (about 340
Python calls each, filling the client's table of response callbacks), which cost more than the round trip itself
for the one-key reads and counts made on every request. redis-py's clients are thread-safe.
"""

from __future__ import annotations

import threading

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[str, RedisCacheClient] = {}
_lock = threading.Lock()


POOL_DEFAULTS = {"pool_class": redis.BlockingConnectionPool, "max_connections": 100, "timeout": 20}


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's client holder, handing out one ``redis.Redis`` per pool instead of a new one per call."""

    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._redis_clients: dict[int, redis.Redis] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._redis_clients.get(index)
        if client is None:
            client = self._redis_clients.setdefault(index, super().get_client(key, write=write))
        return client


class SharedPoolRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._options = {**POOL_DEFAULTS, **self._options}
        self._class = ReusedClientRedisCacheClient

    @cached_property
    def _cache(self) -> RedisCacheClient:
        key = repr((self._servers, sorted(self._options.items(), key=lambda item: item[0])))
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = self._class(self._servers, **self._options)
            return client
