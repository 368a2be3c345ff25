"""Ceilings for the database scenes: the same INSERT a message post does and the same keyset SELECT a message
page does, by the thinnest endpoint there is: a Starlette route, SQLAlchemy Core on asyncpg, orjson.

It serves the paths chorus serves (``/threads/{id}/messages``), so the load generator sends the same requests to
both. No authentication and no participation check: those are part of what the ceiling leaves out. The author of
inserted messages is ``BENCH_AUTHOR_ID``; their numbers are unique per process (process id in the high bits).
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chorus.db import database_url
from chorus.models import Message, utcnow, uuid7
from chorus.schema.page import decode_cursor, encode_cursor

PAGE = 50
POOL_SIZE = 10
messages = Message.__table__
assert isinstance(messages, Table)
INSERT_MESSAGE = insert(messages)
OUT_COLUMNS = ("id", "thread_id", "author_id", "body", "created_at", "edited_at", "deleted_at")
_engine: AsyncEngine | None = None
_numbers: tuple[int, Iterator[int]] | None = None


def engine() -> AsyncEngine:
    assert _engine is not None, "the lifespan creates the engine"
    return _engine


def next_seq() -> int:
    """A message number no other process of this app hands out: the process id above the low 32 bits."""
    global _numbers
    if _numbers is None or _numbers[0] != os.getpid():
        _numbers = (os.getpid(), itertools.count((os.getpid() << 32) + 1))
    return next(_numbers[1])


def json_response(content: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content, default=str), status_code=status_code, media_type="application/json")


async def post_message(request: Request) -> Response:
    row = {
        "id": uuid7(),
        "thread_id": uuid.UUID(request.path_params["thread_id"]),
        "seq": next_seq(),
        "author_id": uuid.UUID(os.environ["BENCH_AUTHOR_ID"]),
        "body": orjson.loads(await request.body())["body"],
        "created_at": utcnow(),
        "edited_at": None,
        "deleted_at": None,
    }
    async with engine().begin() as connection:
        await connection.execute(INSERT_MESSAGE, row)
    del row["seq"]
    return json_response(row, status_code=201)


async def list_messages(request: Request) -> Response:
    query = (
        select(*(messages.c[name] for name in OUT_COLUMNS), messages.c.seq)
        .where(messages.c.thread_id == uuid.UUID(request.path_params["thread_id"]))
        .order_by(messages.c.seq.desc())
        .limit(PAGE + 1)
    )
    if before := request.query_params.get("before"):
        query = query.where(messages.c.seq < decode_cursor(before, 1)[0])
    async with engine().connect() as connection:
        rows = (await connection.execute(query)).all()
    page = rows[:PAGE]
    items = [dict(zip(OUT_COLUMNS, row[:-1], strict=True)) for row in page]
    next_cursor = encode_cursor(page[-1].seq) if len(rows) > PAGE else None
    return json_response({"items": items, "next_cursor": next_cursor})


async def health(_: Request) -> Response:
    return json_response({"status": "ok"})


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    global _engine
    _engine = create_async_engine(database_url(asynchronous=True), pool_size=POOL_SIZE, max_overflow=POOL_SIZE)
    yield
    await _engine.dispose()


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/threads/{thread_id}/messages", post_message, methods=["POST"]),
        Route("/threads/{thread_id}/messages", list_messages, methods=["GET"]),
    ],
    lifespan=lifespan,
)
