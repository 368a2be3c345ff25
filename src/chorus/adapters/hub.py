"""Live fan-out of events to subscribers connected to any API process.

With ``CHORUS_REDIS_URL`` set, events travel through Redis pub/sub, so a subscriber on one API process hears what
another published; without it (the embedded mode, one API process) an in-process hub does the same job.
A subscriber whose stream may have missed something is dropped (`SubscriberDropped`): it reconnects and resumes from
its last event id, replaying the thread's event log. That happens when it falls too far behind, and with Redis when
the subscription is lost and when it is back (see `chorus.adapters.redis_hub`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Literal, Protocol

from chorus.config import get_settings

logger = logging.getLogger(__name__)

SUBSCRIBER_BACKLOG = 1000

DropReason = Literal["fell_behind", "interrupted"]


class SubscriberDropped(Exception):
    """The subscriber may have missed events (it fell behind, or live delivery was interrupted): it should resume
    from its last event id."""

    def __init__(self, channel: str, reason: DropReason) -> None:
        super().__init__(channel, reason)
        self.reason: DropReason = reason


Inbox = asyncio.Queue[str | SubscriberDropped]


class Subscription:
    """One subscriber's messages, in order, until it is dropped (then ``SubscriberDropped``, on every read after).

    Waiting for the next one may be cancelled, by a timeout say, without losing anything: there is no generator
    to close, only a queue to wait on again.
    """

    def __init__(self, queue: Inbox) -> None:
        self._queue = queue

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> str:
        message = await self._queue.get()
        if isinstance(message, SubscriberDropped):
            self._queue.put_nowait(message)
            raise message
        return message


class Hub(Protocol):
    async def publish(self, channel: str, message: str) -> None: ...

    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[Subscription]: ...

    async def close(self) -> None: ...


class LocalFanout:
    """Queues of this process's subscribers, by channel; ``stale`` ones joined while deliveries could be missed."""

    def __init__(self) -> None:
        self.queues: defaultdict[str, set[Inbox]] = defaultdict(set)
        self.stale: dict[Inbox, str] = {}

    def deliver(self, channel: str, message: str) -> None:
        for queue in list(self.queues.get(channel, ())):
            if queue.qsize() < SUBSCRIBER_BACKLOG:
                queue.put_nowait(message)
            else:
                self._drop(channel, queue, "fell_behind")

    def drop_all(self, reason: DropReason) -> int:
        dropped = [(channel, queue) for channel, queues in self.queues.items() for queue in queues]
        for channel, queue in dropped:
            self._drop(channel, queue, reason)
        return len(dropped)

    def drop_stale(self, reason: DropReason) -> int:
        dropped = list(self.stale.items())
        for queue, channel in dropped:
            self._drop(channel, queue, reason)
        return len(dropped)

    def _drop(self, channel: str, queue: Inbox, reason: DropReason) -> None:
        """End a subscriber's stream after what it already has: it resumes from its last event id."""
        self.queues[channel].discard(queue)
        self.stale.pop(queue, None)
        queue.put_nowait(SubscriberDropped(channel, reason))

    @contextlib.asynccontextmanager
    async def listen(self, channel: str, *, stale: bool = False) -> AsyncIterator[Subscription]:
        queue: Inbox = asyncio.Queue()  # bounded by deliver(), which drops laggards
        self.queues[channel].add(queue)
        if stale:
            self.stale[queue] = channel
        try:
            yield Subscription(queue)
        finally:
            self.stale.pop(queue, None)
            self.queues[channel].discard(queue)
            if not self.queues[channel]:
                del self.queues[channel]


class InProcessHub:
    """Subscribers and publishers in one process: the embedded mode."""

    def __init__(self) -> None:
        self._fanout = LocalFanout()

    async def publish(self, channel: str, message: str) -> None:
        self._fanout.deliver(channel, message)

    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[Subscription]:
        return self._fanout.listen(channel)

    async def close(self) -> None:
        return None


@functools.cache
def get_hub() -> Hub:
    """This process's hub, made on first use (inside the event loop that serves requests)."""
    redis_url = get_settings().redis_url
    if not redis_url:
        return InProcessHub()
    from chorus.adapters.redis_hub import RedisHub

    return RedisHub(redis_url)


async def close_hub() -> None:
    if get_hub.cache_info().currsize:
        await get_hub().close()
        get_hub.cache_clear()
