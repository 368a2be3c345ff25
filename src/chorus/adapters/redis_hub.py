"""Live fan-out through Redis pub/sub, for several API processes: what one publishes, subscribers on every other hear.

Worker processes never load it, nor API processes without ``CHORUS_REDIS_URL`` (``get_hub`` imports it on demand).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from chorus.adapters.hub import LocalFanout, Subscription
from chorus.config import get_settings

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

logger = logging.getLogger(__name__)

PUBLISH_BACKLOG = 10_000
"""Events waiting for Redis in one process; past it the oldest are dropped (subscribers recover from the log)."""
PUBLISH_BATCH = 100
RECONNECT_FIRST_SECONDS = 0.1
RECONNECT_CAP_SECONDS = 2.0
"""The longest wait between two attempts to reach Redis: after an outage, live updates resume within about this."""
CHANNEL_PREFIX = "chorus:"
_LINK_ERRORS = (RedisError, OSError, RuntimeError)  # what a lost or silent connection raises; anything else: a bug


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
        self._fanout = LocalFanout()
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue(maxsize=PUBLISH_BACKLOG)
        self._dropped = 0
        self._publisher: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._live = False
        self._heard_since_attempt = False
        self._settled = asyncio.Event()  # the reader's first attempt is over, subscribed or not
        self._closed = False

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
        if not self._closed and (self._publisher is None or self._publisher.done()):
            self._publisher = asyncio.create_task(self._publish_queued(), name="chorus-live-redis-publisher")

    async def _publish_queued(self) -> None:
        while not self._closed:
            batch = [await self._outbox.get()]
            while len(batch) < PUBLISH_BATCH and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            await self._send(batch)
            for _ in batch:
                self._outbox.task_done()

    async def _send(self, batch: list[tuple[str, str]]) -> None:
        """Publish ``batch`` in order, retrying until Redis takes it."""
        failures = 0
        while not self._closed:
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
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(), name="chorus-live-redis-reader")
        if not self._settled.is_set():  # the process's first subscriber: give the reader its first attempt
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2 * self._timeout):
                    await self._settled.wait()
        async with self._fanout.listen(channel, stale=not self._live) as messages:
            yield messages

    async def _read(self) -> None:
        """Stay subscribed for as long as the process lives, coming back after every loss."""
        failures = 0
        while not self._closed:
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
            async with asyncio.timeout(self._timeout):
                await pubsub.psubscribe(CHANNEL_PREFIX + "*")
            heard, pinged = loop.time(), False
            while True:
                item: dict[str, Any] | None = await pubsub.get_message(timeout=self._timeout / 2)
                if item is None:
                    silent = loop.time() - heard
                    if silent > 2 * self._timeout:
                        raise TimeoutError(f"Redis said nothing for {silent:.1f} s, not even to a ping")
                    if silent >= self._timeout and not pinged:
                        async with asyncio.timeout(self._timeout):
                            await pubsub.ping()
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
                async with asyncio.timeout(self._timeout):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

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
        """Send what is queued (for at most the Redis timeout), then stop both tasks.

        On Python 3.11 a cancellation can be lost inside an awaited call (a ``wait_for`` finishing at that moment
        swallows it): so the loops also watch ``_closed``, and each task is cancelled until it has ended.
        """
        if self._publisher is not None and not self._publisher.done():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._timeout):
                    await self._outbox.join()
        self._closed = True
        for task in (self._publisher, self._reader):
            while task is not None and not task.done():
                task.cancel()  # again, should one be lost: each wait is bounded
                await asyncio.wait({task}, timeout=self._timeout)
            if task is not None and not task.cancelled():
                task.exception()  # retrieved, so that asyncio does not report it as never retrieved
        self._live = False
        self._fanout.drop_all("interrupted")  # streams still open end cleanly; they resume on another process
        await self._redis.aclose()
