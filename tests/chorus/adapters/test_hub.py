"""The live hubs: fan-out to every subscriber of a channel, a slow subscriber dropped, not a stalled server, and
nothing waiting on a Redis that does not answer (its outages are in tests/faults/test_redis_outage.py)."""

from __future__ import annotations

import asyncio

import pytest

from chorus.adapters.hub import SUBSCRIBER_BACKLOG, Hub, InProcessHub, SubscriberDropped
from chorus.adapters.redis_hub import RECONNECT_CAP_SECONDS, RECONNECT_FIRST_SECONDS, RedisHub, reconnect_delay
from chorus.config import get_settings
from tests.servers import free_port
from tests.services import REDIS_URL, needs_redis


async def _fan_out(hub: Hub) -> None:
    async with (
        hub.subscribe("thread:a") as first,
        hub.subscribe("thread:a") as second,
        hub.subscribe("thread:b") as other,
    ):
        await hub.publish("thread:a", "one")
        await hub.publish("thread:b", "two")
        assert await asyncio.wait_for(anext(first), 5) == "one"
        assert await asyncio.wait_for(anext(second), 5) == "one"
        assert await asyncio.wait_for(anext(other), 5) == "two"
    await hub.close()


def test_the_in_process_hub_fans_out_by_channel() -> None:
    asyncio.run(_fan_out(InProcessHub()))


@needs_redis
def test_the_redis_hub_fans_out_by_channel() -> None:
    async def scenario() -> None:
        await _fan_out(RedisHub(REDIS_URL))

    asyncio.run(scenario())


def test_a_subscriber_that_falls_behind_is_dropped_after_its_backlog() -> None:
    async def scenario() -> None:
        hub = InProcessHub()
        async with hub.subscribe("thread:a") as slow:
            for n in range(SUBSCRIBER_BACKLOG + 1):
                await hub.publish("thread:a", str(n))
            received = []

            async def drain() -> None:
                async for message in slow:
                    received.append(message)

            with pytest.raises(SubscriberDropped):
                await drain()
            # Everything up to the backlog, in order and without a gap: resuming from the last one loses nothing.
            assert received == [str(n) for n in range(SUBSCRIBER_BACKLOG)]

    asyncio.run(scenario())


def test_with_redis_unreachable_subscribing_and_publishing_never_wait() -> None:
    """Nothing listens on the port: the hub serves its subscriber (which resumes once Redis answers) and queues the
    event, both at once, and closes within its timeout."""

    async def scenario() -> None:
        hub = RedisHub(f"redis://127.0.0.1:{free_port()}/0")
        clock = asyncio.get_running_loop().time
        started = clock()
        async with hub.subscribe("thread:a"):
            assert clock() - started < 1
            assert not hub.live
            started = clock()
            await hub.publish("thread:a", "queued")
            assert clock() - started < 0.05
        started = clock()
        await hub.close()
        assert clock() - started < 2 * get_settings().redis_timeout_seconds

    asyncio.run(scenario())


def test_reconnection_backs_off_up_to_a_cap_with_jitter() -> None:
    first = [reconnect_delay(0) for _ in range(50)]
    assert all(RECONNECT_FIRST_SECONDS / 2 <= delay <= RECONNECT_FIRST_SECONDS for delay in first)
    assert len(set(first)) > 1
    assert reconnect_delay(3) > RECONNECT_FIRST_SECONDS
    assert all(RECONNECT_CAP_SECONDS / 2 <= reconnect_delay(n) <= RECONNECT_CAP_SECONDS for n in (10, 100, 10_000))
