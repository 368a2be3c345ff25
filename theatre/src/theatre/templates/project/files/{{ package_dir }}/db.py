"""Engines and sessions from one database URL: async for scenes, sync for tasks, each created on first use.

SQLite runs in WAL mode with a busy timeout, so the API and the worker can share the file.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import Session

from {{ package }}.config import get_settings

DRIVERS = {  # (asynchronous, synchronous); psycopg 3 serves PostgreSQL both ways
    "sqlite": ("sqlite+aiosqlite", "sqlite+pysqlite"),
    "postgresql": ("postgresql+psycopg", "postgresql+psycopg"),
}


def database_url(*, asynchronous: bool) -> URL:
    url = make_url(get_settings().database_url)
    asynchronous_driver, synchronous_driver = DRIVERS[url.get_backend_name()]
    return url.set(drivername=asynchronous_driver if asynchronous else synchronous_driver)


def _options(url: URL) -> dict[str, Any]:
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


def _tune_sqlite(engine: Engine) -> None:
    """WAL lets readers work beside one writer; the busy timeout makes writers queue instead of failing."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "busy_timeout=30000", "synchronous=NORMAL", "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()


@functools.cache
def async_engine() -> AsyncEngine:
    url = database_url(asynchronous=True)
    engine = create_async_engine(url, **_options(url))
    if url.get_backend_name() == "sqlite":
        _tune_sqlite(engine.sync_engine)
    return engine


@functools.cache
def sync_engine() -> Engine:
    url = database_url(asynchronous=False)
    engine = create_engine(url, **_options(url))
    if url.get_backend_name() == "sqlite":
        _tune_sqlite(engine)
    return engine


async def request_session() -> AsyncIterator[AsyncSession]:
    """One session per request (a FastAPI dependency): scenes commit what they keep, the rest rolls back."""
    async with AsyncSession(async_engine(), expire_on_commit=False) as session:
        yield session


@contextmanager
def task_session() -> Iterator[Session]:
    """One session per task run: the task commits what it keeps, the rest rolls back."""
    with Session(sync_engine(), expire_on_commit=False) as session:
        yield session


def dispose_engines() -> None:
    """Forget the engines (in a forked worker process, or between test runs); the next use makes new ones."""
    if sync_engine.cache_info().currsize:
        sync_engine().dispose(close=False)
    sync_engine.cache_clear()
    async_engine.cache_clear()
