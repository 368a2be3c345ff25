"""Live fan-out of events to subscribers connected to any API process.

With ``CHORUS_REDIS_URL`` set, events travel through Redis pub/sub, so a subscriber on one API process hears what
another published; without it (the embedded mode, one API process) an in-process hub does the same job.
A subscriber whose stream may have missed something is dropped (`SubscriberDropped`): it reconnects and resumes from
its last event id, replaying the thread's event log. That happens when it falls too far behind, and with Redis when
the subscription is lost and when it is back (see `RedisHub`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Literal, Protocol

from redis.exceptions import RedisError

from chorus.config import get_settings

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

logger = logging.getLogger(__name__)

SUBSCRIBER_BACKLOG = 1000
PUBLISH_BACKLOG = 10_000
"""Events waiting for Redis in one process; past it the oldest are dropped (subscribers recover from the log)."""
PUBLISH_BATCH = 100
RECONNECT_FIRST_SECONDS = 0.1
RECONNECT_CAP_SECONDS = 2.0
"""The longest wait between two attempts to reach Redis: after an outage, live updates resume within about this."""
CHANNEL_PREFIX = "chorus:"

DropReason = Literal["fell_behind", "interrupted"]
_LINK_ERRORS = (RedisError, OSError, RuntimeError)  # what a lost or silent connection raises; anything else: a bug


class SubscriberDropped(Exception):
    """The subscriber may have missed events (it fell behind, or live delivery was interrupted): it should resume
    from its last event id."""

    def __init__(self, channel: str, reason: DropReason) -> None:
        super().__init__(channel, reason)
        self.reason: DropReason = reason


class Hub(Protocol):
    async def publish(self, channel: str, message: str) -> None: ...

    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[AsyncIterator[str]]: ...

    async def close(self) -> None: ...


Inbox = asyncio.Queue[str | SubscriberDropped]


class _LocalFanout:
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
    async def listen(self, channel: str, *, stale: bool = False) -> AsyncIterator[AsyncIterator[str]]:
        queue: Inbox = asyncio.Queue()  # bounded by deliver(), which drops laggards
        self.queues[channel].add(queue)
        if stale:
            self.stale[queue] = channel

        async def messages() -> AsyncIterator[str]:
            while not isinstance(message := await queue.get(), SubscriberDropped):
                yield message
            raise message

        try:
            yield messages()
        finally:
            self.stale.pop(queue, None)
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


def reconnect_delay(failures: int) -> float:
    """Seconds before the next attempt after ``failures`` in a row: doubling from 0.1 s, capped, and jittered so that
    many processes do not all knock at once when Redis comes back."""
    ceiling = min(RECONNECT_CAP_SECONDS, RECONNECT_FIRST_SECONDS * 2 ** min(failures, 16))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not a secret)


class RedisHub:
    """Redis pub/sub behind two tasks per process, so no request ever waits for Redis.

    The reader holds one pattern subscription for the whole process (a subscriber costs no Redis connection) and
    reconnects by itself, with capped, jittered backoff. Only what arrives while it is subscribed reaches local
    subscribers, so no stream may sit through a gap unawares: when the subscription is lost every local subscriber
    is dropped (a clean end of its stream), and a subscriber that joined while it was down is dropped once it is
    back; each resumes with Last-Event-ID and replays from the event log what it did not hear. A subscriber that
    joins during an outage is served, not refused: it replays the log and waits there, and is dropped to resume once
    Redis is back (a 503 would leave the client knocking with nothing to read; the log is there to read).

    The publisher sends events in commit order from a bounded queue; while Redis does not answer it holds them and
    retries (a duplicate is harmless: subscribers skip numbers they have), dropping the oldest past
    `PUBLISH_BACKLOG`.
    """

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self._timeout = get_settings().redis_timeout_seconds
        # No retries inside the client: the reader must see every lost connection (redis-py would otherwise
        # resubscribe silently, skipping what was published meanwhile), and the publisher retries on its own. A
        # failure still disconnects, so that the next call connects afresh: uvloop's RuntimeError on writing to a
        # connection Redis reset counts as one.
        self._redis: Redis = Redis.from_url(
            url,
            socket_connect_timeout=self._timeout,
            socket_timeout=self._timeout,
            retry=Retry(NoBackoff(), 0),
            retry_on_error=[RuntimeError],
        )
        self._fanout = _LocalFanout()
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue(maxsize=PUBLISH_BACKLOG)
        self._dropped = 0
        self._publisher: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._live = False
        self._heard_since_attempt = False
        self._settled = asyncio.Event()  # the reader's first attempt is over, subscribed or not

    @property
    def live(self) -> bool:
        """Whether this process is subscribed now, so that what is published reaches its subscribers."""
        return self._live

    async def publish(self, channel: str, message: str) -> None:
        """Queue ``message`` for this process's publisher and return at once."""
        if self._outbox.full():
            self._outbox.get_nowait()
            self._outbox.task_done()
            if not self._dropped:
                logger.warning("live updates: %d events wait for Redis; dropping the oldest", PUBLISH_BACKLOG)
            self._dropped += 1
        self._outbox.put_nowait((channel, message))
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.create_task(self._publish_queued(), name="chorus-live-redis-publisher")

    async def _publish_queued(self) -> None:
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < PUBLISH_BATCH and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            await self._send(batch)
            for _ in batch:
                self._outbox.task_done()

    async def _send(self, batch: list[tuple[str, str]]) -> None:
        """Publish ``batch`` in order, retrying until Redis takes it."""
        failures = 0
        while True:
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for channel, message in batch:
                        pipe.publish(CHANNEL_PREFIX + channel, message)
                    await pipe.execute()
            except Exception as error:  # Redis did not take it (uvloop reports a reset connection as RuntimeError)
                if not failures:
                    logger.warning(
                        "live updates: cannot publish to Redis (%s: %s); holding events until it answers",
                        type(error).__name__,
                        error,
                        exc_info=not isinstance(error, _LINK_ERRORS),
                    )
                await asyncio.sleep(reconnect_delay(failures))
                failures += 1
                continue
            if failures or self._dropped:
                logger.warning("live updates: publishing to Redis again (%d events dropped meanwhile)", self._dropped)
                self._dropped = 0
            return

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(), name="chorus-live-redis-reader")
        if not self._settled.is_set():  # the process's first subscriber: give the reader its first attempt
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._settled.wait(), 2 * self._timeout)
        async with self._fanout.listen(channel, stale=not self._live) as messages:
            yield messages

    async def _read(self) -> None:
        """Stay subscribed for as long as the process lives, coming back after every loss."""
        failures = 0
        while True:
            try:
                await self._listen()
            except Exception as error:  # the subscription is gone (uvloop reports a reset one as RuntimeError)
                if self._live or not failures:
                    logger.warning(
                        "live updates: no Redis subscription (%s: %s); retrying",
                        type(error).__name__,
                        error,
                        exc_info=not isinstance(error, _LINK_ERRORS),
                    )
                self._went_down()
            failures = 0 if self._heard_since_attempt else failures + 1
            await asyncio.sleep(reconnect_delay(failures))

    async def _listen(self) -> None:
        """Subscribe, then hand each message to local subscribers until the connection fails or falls silent.

        A partition breaks no socket: it only stops the bytes. So after ``timeout`` of silence the reader pings,
        and a connection silent for twice that long counts as lost.
        """
        self._heard_since_attempt = False
        pubsub: PubSub = self._redis.pubsub()
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(pubsub.psubscribe(CHANNEL_PREFIX + "*"), self._timeout)
            heard, pinged = loop.time(), False
            while True:
                item: dict[str, Any] | None = await pubsub.get_message(timeout=self._timeout / 2)
                if item is None:
                    silent = loop.time() - heard
                    if silent > 2 * self._timeout:
                        raise TimeoutError(f"Redis said nothing for {silent:.1f} s, not even to a ping")
                    if silent >= self._timeout and not pinged:
                        await asyncio.wait_for(pubsub.ping(), self._timeout)
                        pinged = True
                    continue
                heard, pinged = loop.time(), False
                if item["type"] == "pmessage":
                    channel = item["channel"].decode().removeprefix(CHANNEL_PREFIX)
                    self._fanout.deliver(channel, item["data"].decode())
                elif item["type"] == "psubscribe":
                    self._went_live()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pubsub.aclose(), self._timeout)  # type: ignore[no-untyped-call]

    def _went_live(self) -> None:
        self._heard_since_attempt = True
        self._live = True
        self._settled.set()
        if dropped := self._fanout.drop_stale("interrupted"):
            logger.warning("live updates: Redis subscription back; %d streams resume from the event log", dropped)

    def _went_down(self) -> None:
        self._settled.set()
        if self._live:
            self._live = False
            dropped = self._fanout.drop_all("interrupted")
            logger.warning("live updates: Redis subscription lost; %d streams resume from the event log", dropped)

    async def close(self) -> None:
        """Send what is queued (for at most the Redis timeout), then stop both tasks."""
        if self._publisher is not None and not self._publisher.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox.join(), self._timeout)
        for task in (self._publisher, self._reader):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._live = False
        self._fanout.drop_all("interrupted")  # streams still open end cleanly; they resume on another process
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
