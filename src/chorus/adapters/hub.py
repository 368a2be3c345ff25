"""Live fan-out of events to subscribers connected to any API process.

With ``CHORUS_REDIS_URL`` set, events travel through Redis pub/sub, so a subscriber on one API process hears what
another published; without it (the embedded mode, one API process) an in-process hub does the same job.
A subscriber that falls too far behind is dropped; it reconnects and resumes from its last event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol

from chorus.config import get_settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)

SUBSCRIBER_BACKLOG = 1000
CHANNEL_PREFIX = "chorus:"


class SubscriberDropped(Exception):
    """The subscriber fell behind by more than its backlog; it should resume from its last event id."""


class Hub(Protocol):
    async def publish(self, channel: str, message: str) -> None: ...

    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[AsyncIterator[str]]: ...

    async def close(self) -> None: ...


class _LocalFanout:
    """Queues of this process's subscribers, by channel."""

    def __init__(self) -> None:
        self.queues: defaultdict[str, set[asyncio.Queue[str | None]]] = defaultdict(set)

    def deliver(self, channel: str, message: str) -> None:
        for queue in list(self.queues.get(channel, ())):
            if queue.qsize() < SUBSCRIBER_BACKLOG:
                queue.put_nowait(message)
            else:
                self._drop(channel, queue)

    def drop_all(self) -> None:
        for channel, queues in list(self.queues.items()):
            for queue in list(queues):
                self._drop(channel, queue)

    def _drop(self, channel: str, queue: asyncio.Queue[str | None]) -> None:
        """End a subscriber's stream after what it already has: it resumes from its last event id."""
        self.queues[channel].discard(queue)
        queue.put_nowait(None)

    @contextlib.asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        queue: asyncio.Queue[str | None] = asyncio.Queue()  # bounded by deliver(), which drops laggards
        self.queues[channel].add(queue)

        async def messages() -> AsyncIterator[str]:
            while (message := await queue.get()) is not None:
                yield message
            raise SubscriberDropped(channel)

        try:
            yield messages()
        finally:
            self.queues[channel].discard(queue)
            if not self.queues[channel]:
                del self.queues[channel]


class InProcessHub:
    """Subscribers and publishers in one process: the embedded mode."""

    def __init__(self) -> None:
        self._fanout = _LocalFanout()

    async def publish(self, channel: str, message: str) -> None:
        self._fanout.deliver(channel, message)

    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[AsyncIterator[str]]:
        return self._fanout.listen(channel)

    async def close(self) -> None:
        return None


class RedisHub:
    """One pattern subscription per process, fanned out locally: each subscriber costs no Redis connection."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis: Redis = Redis.from_url(url)
        self._fanout = _LocalFanout()
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def publish(self, channel: str, message: str) -> None:
        await self._redis.publish(CHANNEL_PREFIX + channel, message)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        if self._reader is None or self._reader.done():
            self._ready.clear()
            self._reader = asyncio.create_task(self._read(), name="chorus-live-redis-reader")
        await self._ready.wait()
        async with self._fanout.listen(channel) as messages:
            yield messages

    async def _read(self) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.psubscribe(CHANNEL_PREFIX + "*")
            self._ready.set()
            async for item in pubsub.listen():
                if item["type"] == "pmessage":
                    channel = item["channel"].decode().removeprefix(CHANNEL_PREFIX)
                    self._fanout.deliver(channel, item["data"].decode())
        except Exception:
            logger.exception("live updates: lost the Redis subscription")
            self._ready.set()
            self._fanout.drop_all()
            raise
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        await self._redis.aclose()


@functools.cache
def get_hub() -> Hub:
    """This process's hub, made on first use (inside the event loop that serves requests)."""
    redis_url = get_settings().redis_url
    return RedisHub(redis_url) if redis_url else InProcessHub()


async def close_hub() -> None:
    if get_hub.cache_info().currsize:
        await get_hub().close()
        get_hub.cache_clear()
