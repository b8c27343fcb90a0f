"""The Redis cache shares its connection pool between threads (each ASGI request runs in a new thread)."""

import threading

import pytest
import redis
from django.core.cache import CacheHandler

from atende.core.testing.redis import redis_url_or_skip, unique_prefix


@pytest.fixture
def redis_url():
    return redis_url_or_skip()


def test_threads_share_one_connection_pool_and_see_each_others_values(redis_url):
    handler = CacheHandler({"default": {"BACKEND": "atende.core.cache.SharedPoolRedisCache", "LOCATION": redis_url,
                                        "KEY_PREFIX": unique_prefix("cache")}})
    seen = []

    def request(value):  # as an ASGI request: a thread of its own, so a cache object of its own
        cache = handler["default"]
        cache.set("shared", value, 30)
        seen.append((cache.get("shared"), cache._cache._get_connection_pool(write=True)))

    for value in ("one", "two", "three"):
        thread = threading.Thread(target=request, args=(value,))
        thread.start()
        thread.join()
    assert [v for v, _ in seen] == ["one", "two", "three"]
    pools = {id(pool) for _, pool in seen}
    assert len(pools) == 1
    pool = seen[0][1]
    assert len(pool._connections) == 1  # one TCP connection reused


def test_more_threads_than_connections_wait_for_one_instead_of_failing(redis_url):
    """At a peak more request threads than the pool holds touch the cache at once: they wait, never error."""
    handler = CacheHandler({"default": {"BACKEND": "atende.core.cache.SharedPoolRedisCache", "LOCATION": redis_url,
                                        "KEY_PREFIX": "atende-cache-test-peak",
                                        "OPTIONS": {"max_connections": 3}}})
    errors, start = [], threading.Barrier(24)

    def request(n):
        cache = handler["default"]
        start.wait()
        try:
            for i in range(20):
                cache.set(f"k{n}", i, 30)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=request, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    pool = handler["default"]._cache._get_connection_pool(write=True)
    assert isinstance(pool, redis.BlockingConnectionPool) and len(pool._connections) <= 3
    assert handler["default"].get("k5") == 19
