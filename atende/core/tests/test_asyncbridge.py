"""Coroutines awaited from sync code: on the ASGI server's loop inside the server, on one shared loop elsewhere."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async

from atende.core.asyncbridge import run_sync, send_soon


async def _where(value):
    await asyncio.sleep(0)
    return value, asyncio.get_running_loop(), threading.current_thread().name


async def _fail():
    raise ValueError("refused")


def test_outside_a_server_every_call_shares_one_loop_and_starts_no_thread_per_call():
    first = run_sync(_where, 1)
    threads = set(threading.enumerate())
    results = [run_sync(_where, i) for i in range(50)]
    assert [r[0] for r in results] == list(range(50))
    assert {r[1] for r in results} == {first[1]} and first[2] == "atende-async-bridge"
    # None started (a thread an earlier test left may end meanwhile: the count alone would say otherwise).
    assert set(threading.enumerate()) - threads == set()
    with pytest.raises(ValueError, match="refused"):
        run_sync(_fail)


def test_inside_a_server_thread_the_servers_loop_runs_it():
    async def server():
        loop = asyncio.get_running_loop()
        value, used, _ = await sync_to_async(run_sync, thread_sensitive=False)(_where, 7)
        return value, used is loop

    assert asyncio.run(server()) == (7, True)


def test_calling_it_on_a_running_loop_is_a_mistake_said_plainly():
    async def on_loop():
        coroutine = _where(1)
        try:
            run_sync(lambda: coroutine)
        finally:
            coroutine.close()

    with pytest.raises(RuntimeError, match="await the coroutine"):
        asyncio.run(on_loop())


def test_pushes_from_a_server_thread_return_at_once_and_run_in_call_order():
    sent = []

    async def push(n, delay):
        await asyncio.sleep(delay)
        sent.append(n)

    async def server():
        def view():  # a sync view: three pushes, the first the slowest to send
            for n, delay in ((1, 0.05), (2, 0), (3, 0.01)):
                send_soon(push, n, delay)
            return list(sent)

        returned_with = await sync_to_async(view, thread_sensitive=False)()
        for _ in range(50):
            if len(sent) == 3:
                break
            await asyncio.sleep(0.01)
        return returned_with

    assert asyncio.run(server()) == [] and sent == [1, 2, 3]


def test_a_failing_push_is_logged_not_raised(caplog):
    send_soon(_fail)
    assert "push" in caplog.text and "refused" in caplog.text


def test_pushes_to_one_group_keep_their_order_and_other_groups_do_not_wait_for_them():
    from atende.core.asyncbridge import sends_together

    sent = []

    async def group_send(group, n, delay):
        await asyncio.sleep(delay)
        sent.append((group, n))

    async def server():
        def write():  # a group of messages committed together: the first push the slowest to send
            with sends_together():
                send_soon(group_send, "chat.1", 1, 0.3)
                send_soon(group_send, "chat.1", 2, 0)
                send_soon(group_send, "chat.2", 3, 0)
            send_soon(group_send, "chat.3", 4, 0)

        await sync_to_async(write, thread_sensitive=False)()
        for _ in range(100):
            if len(sent) == 4:
                break
            await asyncio.sleep(0.01)

    asyncio.run(server())
    assert sent.index(("chat.1", 1)) < sent.index(("chat.1", 2))
    assert sent.index(("chat.2", 3)) < sent.index(("chat.1", 1)) and sent.index(("chat.3", 4)) < sent.index(("chat.1", 1))
