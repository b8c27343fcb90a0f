"""Django's Redis cache with its connection pools shared by every thread of the process.

Django keeps one cache object per thread, and each builds its own Redis client and pool. Under ASGI every
request runs in a new thread, so each request opened a new TCP connection to Redis (15% of a ticket list's
time in the benchmark). Here the clients, and with them the pools (redis-py's are thread-safe), are shared
per (servers, options).
"""

from __future__ import annotations

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[str, RedisCacheClient] = {}
_lock = threading.Lock()


class SharedPoolRedisCache(RedisCache):
    @cached_property
    def _cache(self) -> RedisCacheClient:
        key = repr((self._servers, sorted(self._options.items())))
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = self._class(self._servers, **self._options)
            return client
