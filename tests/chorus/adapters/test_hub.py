"""The live hubs: fan-out to every subscriber of a channel, and a slow subscriber dropped, not a stalled server."""

from __future__ import annotations

import asyncio

import pytest

from chorus.adapters.hub import SUBSCRIBER_BACKLOG, Hub, InProcessHub, RedisHub, SubscriberDropped
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
