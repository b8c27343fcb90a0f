"""The Redis the tests may use, and names no other run shares.

Two suites run at once in CI (SQLite and PostgreSQL), each with several processes: a fixed key prefix or a prefix
built from primary keys (1 in both suites) would let one run read the other's counters or channel messages. Tests
use a database of their own (``ATENDE_TEST_REDIS_URL``, default db 15) and a fresh prefix per test.
"""

from __future__ import annotations

import os
import uuid

import pytest

REDIS_URL = os.environ.get("ATENDE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_url_or_skip() -> str:
    """The tests' Redis URL; the test is skipped when no Redis answers there."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not running at {REDIS_URL}")
    return REDIS_URL


def unique_prefix(name: str) -> str:
    return f"atende-test-{name}-{os.getpid()}-{uuid.uuid4().hex[:10]}"
