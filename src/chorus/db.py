"""Engines and sessions from one database URL: async for scenes, sync for tasks, both created on first use."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import get_settings

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_SYNC_DRIVERS = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg"}


def database_url(*, asynchronous: bool) -> URL:
    """The configured URL with the driver each side uses (``sqlite:`` and ``postgresql:`` both accepted)."""
    url = make_url(get_settings().database_url)
    backend = url.get_backend_name()
    drivers = _ASYNC_DRIVERS if asynchronous else _SYNC_DRIVERS
    if backend not in drivers:
        raise ValueError(f"CHORUS_DATABASE_URL: unsupported database {backend!r} (use sqlite or postgresql)")
    return url.set(drivername=drivers[backend])


def _engine_options(url: URL) -> dict[str, Any]:
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}


def _tune_sqlite(engine: Engine) -> None:
    """WAL lets readers and one writer share the file; the busy timeout queues writers instead of failing."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@functools.cache
def async_engine() -> AsyncEngine:
    url = database_url(asynchronous=True)
    engine = create_async_engine(url, **_engine_options(url))
    if url.get_backend_name() == "sqlite":
        _tune_sqlite(engine.sync_engine)
    return engine


@functools.cache
def sync_engine() -> Engine:
    url = database_url(asynchronous=False)
    engine = create_engine(url, **_engine_options(url))
    if url.get_backend_name() == "sqlite":
        _tune_sqlite(engine)
    return engine


@functools.cache
def _async_sessions() -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(async_engine(), expire_on_commit=False)


@functools.cache
def _sync_sessions() -> sessionmaker[Session]:
    return sessionmaker(sync_engine(), expire_on_commit=False)


async def session_scope() -> AsyncIterator[AsyncSession]:
    """One session per request (a FastAPI dependency); scenes commit explicitly, anything else rolls back."""
    async with _async_sessions()() as session:
        yield session


@contextmanager
def task_session() -> Iterator[Session]:
    """A session for one task run; the task commits what it means to keep, the rest is rolled back."""
    with _sync_sessions()() as session:
        yield session


def dispose_engines() -> None:
    """Forget engines (after a fork, or between test configurations); they are recreated on next use."""
    for cached in (_sync_sessions, _async_sessions):
        cached.cache_clear()
    if sync_engine.cache_info().currsize:
        sync_engine().dispose(close=False)
    sync_engine.cache_clear()
    async_engine.cache_clear()
