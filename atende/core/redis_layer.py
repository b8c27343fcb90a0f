"""The Redis channel layer with a connection pool fit for many websocket connections.

channels_redis builds redis-py's default pool, which holds at most 100 connections (redis-py 8) and raises
"Too many connections" when they are all busy. A web process with many websocket connections does more
than a hundred layer operations at once when agents connect together (each joins its groups) or a change
fans out, and the overflow became 500 answers to the websocket handshake (benchmark with 1,000 agents
connecting from four client processes, 2026-12-06). Same family as the cache's pool (``core.cache``).

redis-py 8 also gives every connection a 5 s read timeout, the same as the layer's blocking pop
(``BZPOPMIN`` with ``brpop_timeout`` 5 s): when the server's empty answer arrives a moment after the client's
own 5 s, the read fails with ``TimeoutError`` and the consumer waiting on it closes its websocket (django/
channels_redis#422). The read timeout here is the blocking time plus a margin, so a dead connection is still
noticed but an idle one is not mistaken for one.
"""

from __future__ import annotations

from channels_redis.core import RedisChannelLayer
from channels_redis.utils import create_pool
from redis import asyncio as aioredis

POOL_MAX_CONNECTIONS = 100
POOL_WAIT_SECONDS = 20
READ_MARGIN_SECONDS = 10


class WaitingPoolRedisChannelLayer(RedisChannelLayer):
    def create_pool(self, index):
        host = dict(self.hosts[index])
        if "address" not in host:  # sentinel or explicit keyword hosts: channels_redis's own pool
            return create_pool(host)
        address = host.pop("address")
        host.setdefault("max_connections", POOL_MAX_CONNECTIONS)
        host.setdefault("timeout", POOL_WAIT_SECONDS)
        host.setdefault("socket_timeout", self.brpop_timeout + READ_MARGIN_SECONDS)
        return aioredis.BlockingConnectionPool.from_url(address, **host)
