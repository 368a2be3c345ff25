"""The engines' time limits, and which database errors count as the database being unreachable (a 503 and a retry)
rather than a bug or bad data (never hidden). Real outages are in tests/faults/test_database_outage.py."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import asyncpg  # type: ignore[import-untyped]
import psycopg
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from chorus.db import database_unreachable, sync_engine
from tests.services import SERVICES


def _wrapped(orig: BaseException, *, invalidated: bool = False) -> BaseException:
    """What SQLAlchemy raises for a driver's error."""
    return sa_exc.DBAPIError.instance("SELECT 1", {}, orig, Exception, connection_invalidated=invalidated)


def _raised_from(cause: BaseException, error: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    "error",
    [
        sa_exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached, connection timed out"),
        _wrapped(Exception("anything"), invalidated=True),
        ConnectionResetError(104, "Connection reset by peer"),  # asyncpg lets socket errors through unwrapped
        TimeoutError(),  # asyncpg's command timeout
        _wrapped(_raised_from(ConnectionResetError(104, "reset"), RuntimeError("connection was closed"))),
        _wrapped(asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")),
        _wrapped(asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout")),
        _wrapped(asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already")),
        _wrapped(psycopg.OperationalError("connection failed: connection refused")),
        _wrapped(psycopg.errors.QueryCanceled("canceling statement due to statement timeout")),
        _wrapped(psycopg.errors.AdminShutdown("terminating connection due to administrator command")),
        _wrapped(sqlite3.OperationalError("database is locked")),
    ],
)
def test_errors_of_a_database_that_cannot_answer_count_as_unreachable(error: BaseException) -> None:
    assert database_unreachable(error)


@pytest.mark.parametrize(
    "error",
    [
        _wrapped(sqlite3.OperationalError("no such table: nowhere")),
        _wrapped(sqlite3.IntegrityError("UNIQUE constraint failed: users.email")),
        _wrapped(asyncpg.exceptions.UndefinedTableError('relation "nowhere" does not exist')),
        _wrapped(asyncpg.exceptions.InterfaceError("cannot perform operation: another operation is in progress")),
        _wrapped(psycopg.errors.DeadlockDetected("deadlock detected")),
        _wrapped(psycopg.errors.UniqueViolation("duplicate key value violates unique constraint")),
        sa_exc.ArgumentError("not a statement"),
        ValueError("bad data"),
    ],
)
def test_bugs_and_bad_data_do_not(error: BaseException) -> None:
    assert not database_unreachable(error)


def test_bad_sql_through_the_real_engine_is_no_outage() -> None:
    with sync_engine().connect() as connection, pytest.raises(sa_exc.DBAPIError) as raised:
        connection.execute(text("SELECT * FROM nowhere"))
    assert not database_unreachable(raised.value)


API_STATEMENT_TIMEOUT = """
import asyncio
from sqlalchemy import text
from chorus.db import async_engine

async def show() -> None:
    async with async_engine().connect() as connection:
        print((await connection.execute(text("SHOW statement_timeout"))).scalar())

asyncio.run(show())
"""


@pytest.mark.skipif(not SERVICES, reason="PostgreSQL's limits; SQLite keeps its busy timeout")
def test_postgresql_sessions_carry_the_statement_timeouts() -> None:
    """The API's statements stop after CHORUS_DATABASE_TIMEOUT_SECONDS, the tasks' after their longer limit (the
    API's engine is asked in a process of its own: its pooled connections belong to the event loop that made them)."""
    with sync_engine().connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "1min"
    shown = subprocess.run([sys.executable, "-c", API_STATEMENT_TIMEOUT], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "2s"
