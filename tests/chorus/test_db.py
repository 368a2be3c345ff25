"""The engines' time limits, and which database errors count as the database being unreachable (a 503 and a retry)
rather than a bug or bad data (never hidden). Real outages are in tests/faults/test_database_outage.py."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import psycopg
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import literal, select, text

from chorus import db
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


def test_identical_reads_at_once_share_one_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    """What many streams of one reader check on one event is asked once; other parameters, a later read, and a read
    after ``share_no_earlier_reads`` (a session just ended) each ask again. ``read_rows`` itself is replaced by a
    counting stand-in: the database's answer is not what is shared here, the asking is."""
    asked: list[dict[str, Any]] = []

    async def read_rows(_statement: Any, parameters: dict[str, Any]) -> list[Any]:
        asked.append(parameters)
        await asyncio.sleep(0.05)
        return [parameters["n"]]

    monkeypatch.setattr(db, "read_rows", read_rows)
    statement = select(literal(1))

    async def scenario() -> None:
        answers = await asyncio.gather(*(db.read_rows_shared(statement, {"n": 1}) for _ in range(100)))
        assert answers == [[1]] * 100
        assert len(asked) == 1
        await asyncio.gather(db.read_rows_shared(statement, {"n": 2}), db.read_rows_shared(statement, {"n": 3}))
        assert len(asked) == 3
        assert await db.read_rows_shared(statement, {"n": 1}) == [1]
        assert len(asked) == 4
        early = asyncio.create_task(db.read_rows_shared(statement, {"n": 1}))
        await asyncio.sleep(0)
        db.share_no_earlier_reads()
        late = db.read_rows_shared(statement, {"n": 1})
        assert await asyncio.gather(early, late) == [[1], [1]]
        assert len(asked) == 6

    asyncio.run(scenario())


def test_a_failed_shared_read_fails_every_caller_and_the_next_asks_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0

    async def read_rows(_statement: Any, _parameters: dict[str, Any]) -> list[Any]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 1:
            raise sa_exc.OperationalError("SELECT", {}, ConnectionResetError("gone"))
        return ["back"]

    monkeypatch.setattr(db, "read_rows", read_rows)
    statement = select(literal(1))

    async def scenario() -> None:
        failed = await asyncio.gather(*(db.read_rows_shared(statement, {}) for _ in range(10)), return_exceptions=True)
        assert all(isinstance(error, sa_exc.OperationalError) for error in failed)
        assert calls == 1
        assert await db.read_rows_shared(statement, {}) == ["back"]
        assert calls == 2

    asyncio.run(scenario())
