"""Ceilings for the database scenes: the same INSERT a message post does, the same keyset SELECT a message
page does, the same query my thread list runs and the INSERTs a new thread makes, by the thinnest endpoint there
is: a Starlette route, SQLAlchemy Core on asyncpg, orjson.

It serves the paths chorus serves (``/threads/{id}/messages``, ``/threads``), so the load generator sends the same
requests to both. No authentication, no participation check and no look-up of the people a thread starts with:
those are part of what the ceiling leaves out. The author of inserted messages and the reader of the thread list
is ``BENCH_AUTHOR_ID``, the owner of started threads ``BENCH_CREATOR_ID``; message numbers are unique per process
(process id in the high bits).
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chorus.db import database_url
from chorus.models import Message, Participant, Thread, utcnow, uuid7
from chorus.schema.page import decode_cursor, encode_cursor

PAGE = 50
THREAD_PAGE = 20  # GET /threads's default limit
PREVIEW_CHARS = 140  # as chorus.acts.thread.scenes.threads
POOL_SIZE = 10
messages, threads, participants = Message.__table__, Thread.__table__, Participant.__table__
assert isinstance(messages, Table)
assert isinstance(threads, Table)
assert isinstance(participants, Table)
INSERT_MESSAGE = insert(messages)
INSERT_THREAD = insert(threads)
INSERT_PARTICIPANT = insert(participants)
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


def my_threads_query(user_id: uuid.UUID) -> Any:
    """The query ``GET /threads`` runs (chorus.acts.thread.scenes.threads.list_my_threads), first page: my page
    of threads by last activity, then only its rows joined to their last message for the preview."""
    page = (
        select(threads.c.id, participants.c.read_seq)
        .join(participants, participants.c.thread_id == threads.c.id)
        .where(participants.c.user_id == user_id)
        .order_by(threads.c.last_activity_at.desc(), threads.c.id.desc())
        .limit(THREAD_PAGE + 1)
        .subquery()
    )
    return (
        select(
            threads,
            page.c.read_seq,
            messages.c.id.label("message_id"),
            messages.c.author_id,
            func.substr(messages.c.body, 1, PREVIEW_CHARS).label("preview"),
            messages.c.created_at.label("message_created_at"),
        )
        .join(page, page.c.id == threads.c.id)
        .outerjoin(messages, messages.c.id == threads.c.last_message_id)
        .order_by(threads.c.last_activity_at.desc(), threads.c.id.desc())
    )


async def list_my_threads(_: Request) -> Response:
    async with engine().connect() as connection:
        rows = (await connection.execute(my_threads_query(uuid.UUID(os.environ["BENCH_AUTHOR_ID"])))).all()
    items = [
        {
            "id": row.id,
            "title": row.title,
            "owner_id": row.owner_id,
            "last_activity_at": row.last_activity_at,
            "unread_count": row.last_seq - row.read_seq,
            "last_message": None
            if row.message_id is None
            else {
                "id": row.message_id,
                "author_id": row.author_id,
                "body": row.preview,
                "created_at": row.message_created_at,
            },
        }
        for row in rows[:THREAD_PAGE]
    ]
    last = items[-1] if len(rows) > THREAD_PAGE else None
    next_cursor = encode_cursor(last["last_activity_at"].isoformat(), str(last["id"])) if last else None
    return json_response({"items": items, "next_cursor": next_cursor})


async def create_thread(request: Request) -> Response:
    """A thread and its participants (the owner first), in one transaction, as chorus writes them."""
    body = orjson.loads(await request.body())
    owner, now = uuid.UUID(os.environ["BENCH_CREATOR_ID"]), utcnow()
    thread = {"id": uuid7(), "title": body["title"], "owner_id": owner, "created_at": now, "last_activity_at": now}
    members = [owner, *(uuid.UUID(member) for member in body.get("participant_ids", ()) if member != str(owner))]
    rows = [{"thread_id": thread["id"], "user_id": member, "joined_at": now} for member in members]
    async with engine().begin() as connection:
        await connection.execute(INSERT_THREAD, thread)
        await connection.execute(INSERT_PARTICIPANT, rows)
    people = [
        {"user_id": member, "display_name": "", "joined_at": now, "is_owner": member == owner} for member in members
    ]
    return json_response(thread | {"unread_count": 0, "participants": people}, status_code=201)


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
        Route("/threads", list_my_threads, methods=["GET"]),
        Route("/threads", create_thread, methods=["POST"]),
        Route("/threads/{thread_id}/messages", post_message, methods=["POST"]),
        Route("/threads/{thread_id}/messages", list_messages, methods=["GET"]),
    ],
    lifespan=lifespan,
)
