"""Engines and sessions from one database URL: async for scenes, sync for tasks, both created on first use."""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Executable, Row, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from chorus.config import get_settings

logger = logging.getLogger(__name__)

# A pooled connection back in use within this many seconds is used as is; one idle longer is pinged first (the
# database may have restarted or a proxy dropped it meanwhile). Under load no checkout pays a round trip for it.
IDLE_PING_SECONDS = 2.0

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


def _engine_options(url: URL, *, asynchronous: bool) -> dict[str, Any]:
    """Pool and driver options; on PostgreSQL every wait is bounded (connecting, a pooled connection, a statement),
    so a database that is down or unreachable turns into an error within seconds rather than a request that hangs."""
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return {"connect_args": {"timeout": 30}}
    settings = get_settings()
    wait = settings.database_timeout_seconds
    if asynchronous:
        # asyncpg: ``timeout`` bounds connecting, ``command_timeout`` each statement on the client side (a partition
        # answers nothing), the server's statement_timeout the same on its side (a slow statement is cancelled there).
        connect_args: dict[str, Any] = {
            "timeout": wait,
            "command_timeout": wait,
            "server_settings": {"statement_timeout": str(math.ceil(wait * 1000))},
        }
    else:
        # psycopg: libpq's connect_timeout is whole seconds (at least 2); tasks' statements may run longer.
        connect_args = {
            "connect_timeout": max(2, math.ceil(wait)),
            "options": f"-c statement_timeout={math.ceil(settings.task_statement_timeout_seconds * 1000)}",
        }
    return {
        "pool_pre_ping": not asynchronous,  # the scenes' pool pings only idle connections: `_ping_when_idle`
        # The scenes' pool keeps every connection it opens (20 a process, as many as before): with overflow ones,
        # a burst opened and closed a connection per request, each with its TLS handshake.
        "pool_size": 20 if asynchronous else 10,
        "max_overflow": 0 if asynchronous else 10,
        "pool_timeout": wait,
        "connect_args": connect_args,
    }


# SQLSTATE classes that mean the server could not serve the statement, not that the statement was wrong: insufficient
# resources (too many connections) and operator intervention (a statement timeout, a shutdown); class 08, connection
# exception, means the link itself broke.
_BUSY_SQLSTATE_CLASSES = frozenset({"53", "57"})
# SQLite's own words for a file it could not get at in time (its other OperationalErrors are mostly bad SQL).
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "unable to open database file", "disk i/o")


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and what it was raised from (drivers wrap socket errors; SQLAlchemy wraps drivers' errors)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _link_broken(error: BaseException) -> bool:
    """The connection did not answer or is gone: a socket error or timeout, or the driver's word for a lost link."""
    if isinstance(error, OSError):  # refused, reset, timed out (TimeoutError is an OSError)
        return True
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith("08"):
        return True
    module = type(error).__module__
    if module.startswith("asyncpg"):  # its other InterfaceErrors are misuse, i.e. bugs
        return type(error).__name__ == "ConnectionDoesNotExistError" or "connection is closed" in str(error)
    if module.startswith("psycopg"):
        import psycopg

        # Its connection failures carry no SQLSTATE; its OperationalErrors with one (a deadlock) are no outage.
        return isinstance(error, psycopg.OperationalError) and sqlstate is None
    return False


def _server_busy(error: BaseException) -> bool:
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate[:2] in _BUSY_SQLSTATE_CLASSES:
        return True
    return type(error).__module__ == "sqlite3" and str(error).lower().startswith(_SQLITE_UNAVAILABLE)


def _driver_errors(error: BaseException) -> Iterator[BaseException]:
    return _causes(error.orig if isinstance(error, sa_exc.DBAPIError) and error.orig is not None else error)


def database_unreachable(error: BaseException) -> bool:
    """Whether ``error`` says the database could not be reached or could not serve in time (worth a 503 and a
    retry), rather than that a statement or its data was wrong (a bug, never hidden as unavailability)."""
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return any(_link_broken(cause) or _server_busy(cause) for cause in _driver_errors(error))


def _discard_broken_connections(engine: Engine) -> None:
    """A statement that timed out on the client or whose socket broke leaves its connection in an unknown state:
    count it as a disconnect, so it is thrown away (and the rest of the pool checked again before reuse) instead of
    rolled back over a link that may not answer; the next checkout connects afresh once the database is back."""

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        if not context.is_disconnect and any(map(_link_broken, _driver_errors(context.original_exception))):
            context.is_disconnect = True

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(dbapi_connection: Any, _record: Any, error: BaseException | None) -> None:
        # asyncpg says goodbye before closing and waits up to 2 s for the server: not over a link that is silent.
        terminate = getattr(getattr(dbapi_connection, "driver_connection", None), "terminate", None)
        if error is not None and callable(terminate) and any(map(_link_broken, _driver_errors(error))):
            terminate()


_RETURNED_AT = "chorus_returned_at"


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only if it sat idle over ``IDLE_PING_SECONDS`` (SQLAlchemy's pre-ping
    costs a round trip at every checkout); a dead one is replaced, as pre-ping would. A busy connection that broke
    fails its statement instead, which `_discard_broken_connections` turns into a fresh pool and the request into a
    503, never a 500."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_RETURNED_AT, 0.0) <= IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise sa_exc.DisconnectionError(f"an idle pooled connection did not answer: {error!r}") from error


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
    engine = create_async_engine(url, **_engine_options(url, asynchronous=True))
    if url.get_backend_name() == "sqlite":
        _tune_sqlite(engine.sync_engine)
    else:
        _discard_broken_connections(engine.sync_engine)
        _ping_when_idle(engine.sync_engine)
    return engine


@functools.cache
def _autocommit_engine() -> AsyncEngine:
    """The scenes' engine and pool, its connections in autocommit: a read sends its statement and nothing else."""
    return async_engine().execution_options(isolation_level="AUTOCOMMIT")


async def read_rows(statement: Executable, parameters: Mapping[str, Any]) -> Sequence[Row[Any]]:
    """The rows of one read-only statement, on a pooled connection in autocommit (no BEGIN, no ROLLBACK) held only
    for that statement; build ``statement`` once, with bound parameters, so its compiled form is cached."""
    async with _autocommit_engine().connect() as connection:
        return (await connection.execute(statement, parameters)).all()


_reading: dict[tuple[int, tuple[tuple[str, Any], ...]], asyncio.Task[Sequence[Row[Any]]]] = {}


async def read_rows_shared(statement: Executable, parameters: Mapping[str, Any]) -> Sequence[Row[Any]]:
    """``read_rows``, except that callers asking the same statement with the same parameters while it runs share its
    one round trip: the checks many streams of one reader make on one event cost one query, not one each."""
    key = (id(statement), tuple(sorted(parameters.items())))
    running = _reading.get(key)
    if running is None or running.get_loop() is not asyncio.get_running_loop():
        running = _reading[key] = asyncio.create_task(read_rows(statement, parameters))
        running.add_done_callback(functools.partial(_done_reading, key))
    return await asyncio.shield(running)  # one caller cancelled does not cancel the others' answer


def share_no_earlier_reads() -> None:
    """From now on ``read_rows_shared`` starts afresh: a read begun before a change (a session just ended) is not
    handed to a caller asking after it."""
    _reading.clear()


def _done_reading(key: tuple[int, tuple[tuple[str, Any], ...]], task: asyncio.Task[Sequence[Row[Any]]]) -> None:
    if _reading.get(key) is task:
        del _reading[key]
    if not task.cancelled():
        task.exception()  # retrieved here too: when every caller was cancelled, nobody else asks for it


@functools.cache
def sync_engine() -> Engine:
    url = database_url(asynchronous=False)
    engine = create_engine(url, **_engine_options(url, asynchronous=False))
    if url.get_backend_name() == "sqlite":
        _tune_sqlite(engine)
    else:
        _discard_broken_connections(engine)
    return engine


@functools.cache
def _async_sessions() -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(async_engine(), expire_on_commit=False)


@functools.cache
def _sync_sessions() -> sessionmaker[Session]:
    return sessionmaker(sync_engine(), expire_on_commit=False)


async def session_scope() -> AsyncIterator[AsyncSession]:
    """One session per request (a FastAPI dependency); scenes commit explicitly, anything else rolls back.

    Closing rolls back what is open; if the database has gone meanwhile (the request may have been answered
    already), the server rolls it back by itself, so that failure is no error of the request's."""
    session = _async_sessions()()
    try:
        yield session
    finally:
        try:
            async with session:  # its exit closes it to completion, even if the request is cancelled meanwhile
                pass
        except Exception as error:
            if not database_unreachable(error):
                raise
            logger.info("closed a request's session over a lost connection: %r", error)


@contextmanager
def task_session() -> Iterator[Session]:
    """A session for one task run; the task commits what it means to keep, the rest is rolled back."""
    with _sync_sessions()() as session:
        yield session


def dispose_engines() -> None:
    """Forget engines (after a fork, or between test configurations); they are recreated on next use."""
    for cached in (_sync_sessions, _async_sessions, _autocommit_engine):
        cached.cache_clear()
    if sync_engine.cache_info().currsize:
        sync_engine().dispose(close=False)
    sync_engine.cache_clear()
    async_engine.cache_clear()
