"""The Redis channel layer waits for a free connection when many operations run at once (agents connecting
together, a change fanned out), instead of failing with "Too many connections"."""

import asyncio

import pytest
from redis import asyncio as aioredis

from atende.core.redis_layer import WaitingPoolRedisChannelLayer
from atende.core.testing.redis import REDIS_URL as URL
from atende.core.testing.redis import redis_url_or_skip, unique_prefix


@pytest.fixture(autouse=True)
def redis_running():
    redis_url_or_skip()


async def _connect_many(layer, count: int) -> list[str]:
    """What ``count`` websocket consumers do when they connect at once: a channel each, two groups each."""
    async def consumer(n: int) -> str:
        channel = await layer.new_channel()
        await layer.group_add("everyone", channel)
        await layer.group_add(f"team-{n % 7}", channel)
        return channel

    channels = await asyncio.gather(*(consumer(n) for n in range(count)))
    await layer.group_send("everyone", {"type": "queue.event", "n": 1})
    received = await asyncio.gather(*(asyncio.wait_for(layer.receive(c), 20) for c in channels))
    assert all(message["n"] == 1 for message in received)
    return channels


def test_more_operations_than_connections_wait_instead_of_failing():
    prefix = unique_prefix("layer")
    layer = WaitingPoolRedisChannelLayer(hosts=[{"address": URL, "max_connections": 4}], prefix=prefix)

    async def scenario():
        try:
            channels = await _connect_many(layer, 120)
            pool = layer.connection(0).connection_pool
            return channels, pool
        finally:
            await layer.flush()

    channels, pool = asyncio.run(scenario())
    assert len(channels) == 120
    assert isinstance(pool, aioredis.BlockingConnectionPool)
    assert pool.max_connections == 4


def test_default_url_host_gets_the_waiting_pool_with_room_for_a_busy_process():
    layer = WaitingPoolRedisChannelLayer(hosts=[URL], prefix=unique_prefix("layer"))
    pool = layer.create_pool(0)
    assert isinstance(pool, aioredis.BlockingConnectionPool)
    assert pool.max_connections == 100 and pool.timeout == 20


def test_an_idle_receive_outlives_the_blocking_pop_instead_of_failing_on_the_read_timeout():
    """The layer's blocking pop waits ``brpop_timeout``; the connection's read timeout must be longer, or an
    idle consumer's receive fails with TimeoutError and its websocket closes."""
    layer = WaitingPoolRedisChannelLayer(hosts=[URL], prefix=unique_prefix("layer"))
    layer.brpop_timeout = 6  # longer than redis-py's default read timeout (5 s): without the margin this fails

    async def scenario():
        try:
            channel = await layer.new_channel()
            pool = layer.create_pool(0)
            # Nothing arrives for several blocking pops, then one message does.
            receiving = asyncio.ensure_future(layer.receive(channel))
            await asyncio.sleep(6.5)
            assert not receiving.done(), receiving
            await layer.send(channel, {"type": "queue.event", "n": 2})
            return await asyncio.wait_for(receiving, 10), pool
        finally:
            await layer.flush()

    message, pool = asyncio.run(scenario())
    assert message["n"] == 2
    assert pool.connection_kwargs["socket_timeout"] == 6 + 10
