"""Rate limits: fixed windows counted by the `limits` library, in Redis when CHORUS_REDIS_URL is set, in the
database otherwise.

`limits` ships no SQL storage, so the database store is a small one of ours: one row per key, incremented with an
atomic ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (SQLite and PostgreSQL alike). Two concurrent hits can never
read the same count, which is what lets the login throttle count an attempt before it hashes. Fixed windows are the
one strategy that needs nothing but that counter; they let through at most twice a limit across a window's edge,
which the limits here tolerate.

The scenes use `hit` (count one and learn whether it was allowed); tasks, which are synchronous and hold their own
transaction, use `hit_in_transaction` (the count commits or rolls back with the mail it guards).
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Iterator
from typing import Any

from limits import RateLimitItem, RateLimitItemPerHour, parse
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
from sqlalchemy import Connection, CursorResult, Table, case, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import Executable

from chorus.config import get_settings
from chorus.db import async_engine, sync_engine
from chorus.models import RateLimitCounter

__all__ = [
    "LimitsUnavailable",
    "RateLimitItem",
    "clear",
    "clear_everything",
    "hit",
    "hit_in_transaction",
    "parse",
    "refund",
    "retry_after",
    "test",
]

COUNTERS: Table = RateLimitCounter.__table__  # type: ignore[assignment]


class LimitsUnavailable(RuntimeError):
    """The store (Redis or the database) did not answer: the caller answers 503, never lets the request through."""


def _increment(dialect: str, key: str, expiry: int, amount: int) -> Executable:
    """Add ``amount`` to the key's count in its live window, or start a new window; the new count is returned."""
    now = time.time()
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    new = insert(COUNTERS).values(key=key, hits=amount, expires_at=now + expiry)
    expired = COUNTERS.c.expires_at <= now
    return new.on_conflict_do_update(
        index_elements=[COUNTERS.c.key],
        set_={
            "hits": case((expired, new.excluded.hits), else_=COUNTERS.c.hits + new.excluded.hits),
            "expires_at": case((expired, new.excluded.expires_at), else_=COUNTERS.c.expires_at),
        },
    ).returning(COUNTERS.c.hits)


class DatabaseStorage(Storage):
    """A `limits` storage over the service's database, each call in its own short transaction (so a request's own
    transaction never waits on it, nor it on the request)."""

    STORAGE_SCHEME = ["chorus+database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = True, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return (SQLAlchemyError, OSError)

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        async with async_engine().begin() as connection:
            return int(
                (await connection.execute(_increment(connection.dialect.name, key, expiry, amount))).scalar_one()
            )

    async def get(self, key: str) -> int:
        async with async_engine().connect() as connection:
            hits = await connection.scalar(
                select(COUNTERS.c.hits).where(COUNTERS.c.key == key, COUNTERS.c.expires_at > time.time())
            )
        return int(hits or 0)

    async def get_expiry(self, key: str) -> float:
        async with async_engine().connect() as connection:
            expires_at = await connection.scalar(select(COUNTERS.c.expires_at).where(COUNTERS.c.key == key))
        return float(expires_at) if expires_at is not None else time.time()

    async def check(self) -> bool:
        try:
            async with async_engine().connect() as connection:
                await connection.scalar(select(1))
        except SQLAlchemyError:
            return False
        return True

    async def reset(self) -> int | None:
        async with async_engine().begin() as connection:
            deleted: CursorResult[Any] = await connection.execute(delete(COUNTERS))
            return int(deleted.rowcount)

    async def clear(self, key: str) -> None:
        async with async_engine().begin() as connection:
            await connection.execute(delete(COUNTERS).where(COUNTERS.c.key == key))


def key_prefix() -> str:
    """Redis keys of this installation's limits; the queue name keeps two test runs on one Redis apart."""
    return f"chorus-limits:{get_settings().task_queue}"


def _redis_bounds(*, asynchronous: bool) -> dict[str, Any]:
    """Every Redis call answers or fails within the Redis timeout (twice that with its one retry), so a request
    limited here answers 503 promptly while Redis is unreachable. The one retry, on a fresh connection, means the
    first requests after an outage do not fail on connections that died during it."""
    from redis.asyncio.retry import Retry as AsyncRetry
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    timeout = get_settings().redis_timeout_seconds
    return {
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,
        "retry": (AsyncRetry if asynchronous else Retry)(NoBackoff(), 1),
        # uvloop raises RuntimeError, not ConnectionError, on writing to a connection Redis reset: retried alike.
        "retry_on_error": [RuntimeError] if asynchronous else [],
        "health_check_interval": 30,
    }


@functools.cache
def _limiter() -> FixedWindowRateLimiter:
    redis_url = get_settings().redis_url
    storage: Storage
    if redis_url:
        storage = RedisStorage(
            f"async+{redis_url}", implementation="redispy", key_prefix=key_prefix(), **_redis_bounds(asynchronous=True)
        )
        storage.wrap_exceptions = True
    else:
        storage = DatabaseStorage()
    return FixedWindowRateLimiter(storage)


@contextlib.contextmanager
def _store_answers() -> Iterator[None]:
    """The store's own errors become LimitsUnavailable, which the edge answers 503."""
    try:
        yield
    except StorageError as error:
        raise LimitsUnavailable(f"rate-limit store unavailable: {error.storage_error}") from error


async def hit(item: RateLimitItem, *identifiers: str) -> int:
    """Count one for ``identifiers`` under ``item``: 0 when allowed, else the seconds until the window ends."""
    limiter = _limiter()
    with _store_answers():
        if await limiter.hit(item, *identifiers):
            return 0
        return retry_after((await limiter.get_window_stats(item, *identifiers)).reset_time)


async def test(item: RateLimitItem, *identifiers: str) -> int:
    """Like `hit` without counting: 0 when one more would be allowed, else the seconds until it would be."""
    limiter = _limiter()
    with _store_answers():
        if await limiter.test(item, *identifiers):
            return 0
        return retry_after((await limiter.get_window_stats(item, *identifiers)).reset_time)


async def refund(item: RateLimitItem, *identifiers: str) -> None:
    """Take back one hit (a login that succeeded is not a failure)."""
    with _store_answers():
        await _limiter().storage.incr(item.key_for(*identifiers), item.get_expiry(), amount=-1)


async def clear(item: RateLimitItem, *identifiers: str) -> None:
    with _store_answers():
        await _limiter().clear(item, *identifiers)


def retry_after(reset_time: float) -> int:
    """Whole seconds until ``reset_time`` (an epoch time), at least 1: what a Retry-After header says."""
    return max(1, math.ceil(reset_time - time.time()))


def hit_in_transaction(connection: Connection, item: RateLimitItem, *identifiers: str) -> bool:
    """For synchronous tasks: count one and say whether it was allowed. Without Redis the count is made on the
    task's own ``connection``, so it commits or rolls back with the effect it guards (and never waits on it)."""
    key = item.key_for(*identifiers)
    redis_url = get_settings().redis_url
    if not redis_url:
        count = connection.execute(_increment(connection.dialect.name, key, item.get_expiry(), 1)).scalar_one()
        return int(count) <= item.amount
    from limits.strategies import FixedWindowRateLimiter as SyncLimiter

    return SyncLimiter(_sync_redis(redis_url)).hit(item, *identifiers)


@functools.cache
def _sync_redis(redis_url: str) -> Any:
    from limits.storage import RedisStorage as SyncRedisStorage

    return SyncRedisStorage(redis_url, key_prefix=key_prefix(), **_redis_bounds(asynchronous=False))


def purge_expired_counters(connection: Connection) -> int:
    """Delete the database store's windows that have ended (a later hit on their key starts a new one anyway)."""
    deleted: CursorResult[Any] = connection.execute(delete(COUNTERS).where(COUNTERS.c.expires_at <= time.time()))
    return int(deleted.rowcount)


def mails_per_hour() -> RateLimitItem:
    return RateLimitItemPerHour(get_settings().mails_per_address_per_hour)


def clear_everything() -> None:
    """Forget every count (tests start each case from none)."""
    redis_url = get_settings().redis_url
    if redis_url:
        _sync_redis(redis_url).reset()
    with sync_engine().begin() as connection:
        connection.execute(delete(COUNTERS))
