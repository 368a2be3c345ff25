"""A new message's part of the thread's rows, in one statement: number it and its event, log the event, move the
author's read marker and the thread's activity, with the author's membership checked in the same statement.

The message act owns the message row, so it hands its INSERT in (built on the numbers' row); the thread act owns
the rest. On PostgreSQL everything is one statement of data-modifying CTEs, so the thread's row lock, which orders
concurrent posts, is held for that statement alone when it runs outside a transaction. SQLite has no
data-modifying CTEs, and one writer at a time anyway: there it is one short transaction of four statements.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Insert, Select, Update, bindparam, exists, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import FromClause

from chorus.acts.auth import CurrentSession, holder
from chorus.acts.thread.membership import thread_not_found
from chorus.models import Participant, Thread, ThreadEvent, User

MessageInsert = Callable[[FromClause], Insert]
"""Builds the message's INSERT ... SELECT from ``numbered``, whose column ``seq`` is the message's number; it has one
row when the post may go ahead and none otherwise, so the INSERT writes nothing for a non-member. It is called once
(the statement is built once and its compiled form cached), so it takes the post's values as bind parameters: those
every post has (``post_thread``, ``post_author``, ``post_message`` for the message's id, ``post_at``) and its own
(passed as ``message_parameters``). The names are no table's column names, which SQLAlchemy would read as SET
clauses of an UPDATE."""

EVENT_TYPE = "message.created"

_columns = ThreadEvent.__table__.c
_member = exists().where(
    Participant.thread_id == bindparam("post_thread"),
    Participant.user_id == bindparam("post_author"),
    User.id == Participant.user_id,
    User.deleted_at.is_(None),
    User.session_version == bindparam("post_version"),
)
_NUMBERING = (
    update(Thread)
    .where(Thread.id == bindparam("post_thread"), _member)
    .values(
        last_seq=Thread.last_seq + 1,
        event_seq=Thread.event_seq + 1,
        last_activity_at=bindparam("post_at", type_=Thread.__table__.c.last_activity_at.type),
        last_message_id=bindparam("post_message", type_=Thread.__table__.c.last_message_id.type),
    )
    .returning(Thread.last_seq.label("seq"), Thread.event_seq.label("event_seq"))
)


async def post_new_message(
    session: AsyncSession,
    *,
    thread_id: uuid.UUID,
    claims: CurrentSession,
    message_id: uuid.UUID,
    at: datetime,
    event_data: Any,
    insert_message: MessageInsert,
    message_parameters: Mapping[str, Any],
    in_transaction: bool = False,
) -> ThreadEvent:
    """Post message ``message_id`` (inserted by ``insert_message``) with its ``message.created`` event; the event,
    for the caller to end with ``commit_and_announce``.

    Answers like ``MyThread``: 401 for an account no longer live, 404 for a thread that does not exist or that the
    token's holder is not in, and then nothing is written. On PostgreSQL, unless ``in_transaction`` (a post whose
    Idempotency-Key was taken in the same transaction), the statement runs autocommitted: it is durable when it
    returns, and the caller's commit costs no round trip.
    """
    parameters = {
        "post_thread": thread_id,
        "post_author": claims.user_id,
        "post_version": claims.session_version,
        "post_message": message_id,
        "post_at": at,
        "post_event": event_data,
        **message_parameters,
    }
    post = _post_in_one_statement if session.get_bind().dialect.name == "postgresql" else _post_in_one_transaction
    numbers = await post(session, insert_message, parameters, in_transaction)
    if numbers is None:
        holder(await session.get(User, claims.user_id), claims)  # a stale token is 401, not 404
        raise thread_not_found()
    return ThreadEvent(seq=numbers[1], thread_id=thread_id, type=EVENT_TYPE, data=event_data, created_at=at)


def _event_insert(numbered: FromClause) -> Insert:
    values = [
        bindparam("post_thread", type_=_columns.thread_id.type),
        literal(EVENT_TYPE, _columns.type.type),
        bindparam("post_event", type_=_columns.data.type),
        bindparam("post_at", type_=_columns.created_at.type),
    ]
    return insert(ThreadEvent).from_select(
        ["thread_id", "type", "data", "created_at", "seq"], select(*values, numbered.c.event_seq)
    )


def _marker_update(numbered: FromClause) -> Update:
    """Whoever writes has read everything up to what they wrote; the marker only ever moves forward."""
    seq = select(numbered.c.seq).scalar_subquery()
    return (
        update(Participant)
        .where(
            Participant.thread_id == bindparam("post_thread"),
            Participant.user_id == bindparam("post_author"),
            Participant.read_seq < seq,
        )
        .values(read_seq=seq)
    )


@functools.cache
def _one_statement(insert_message: MessageInsert) -> Select[tuple[int, int]]:
    """PostgreSQL's post: data-modifying CTEs on the numbering's one row; built once per message INSERT."""
    numbered = _NUMBERING.cte("numbered")
    message = insert_message(numbered).returning(literal(1)).cte("new_message")
    event = _event_insert(numbered).returning(literal(1)).cte("new_event")
    marker = _marker_update(numbered).returning(literal(1)).cte("moved_marker")
    return select(numbered.c.seq, numbered.c.event_seq).add_cte(message, event, marker)


@functools.cache
def _statements_in_turn(insert_message: MessageInsert) -> tuple[Insert, Insert, Update]:
    """SQLite's post after its numbering: the numbers come back as bind parameters ``post_seq``, ``post_event_seq``."""
    numbers = select(
        bindparam("post_seq", type_=BigInteger()).label("seq"),
        bindparam("post_event_seq", type_=BigInteger()).label("event_seq"),
    ).subquery("numbered")
    return insert_message(numbers), _event_insert(numbers), _marker_update(numbers)


async def _post_in_one_statement(
    session: AsyncSession, insert_message: MessageInsert, parameters: dict[str, Any], in_transaction: bool
) -> tuple[int, int] | None:
    """One statement of CTEs; autocommitted (its own transaction, no BEGIN or COMMIT round trip) unless the caller
    holds a transaction (then the thread stays locked until the caller commits). A transaction the request's
    dependencies opened for a read (the session check, when not cached) is ended first: the write needs none."""
    if not in_transaction and session.in_transaction():
        await session.commit()
    options = {} if in_transaction else {"isolation_level": "AUTOCOMMIT"}
    connection = await session.connection(execution_options=options)
    row = (await connection.execute(_one_statement(insert_message), parameters)).one_or_none()
    return None if row is None else (row.seq, row.event_seq)


async def _post_in_one_transaction(
    session: AsyncSession, insert_message: MessageInsert, parameters: dict[str, Any], in_transaction: bool
) -> tuple[int, int] | None:
    connection = await session.connection()
    row = (await connection.execute(_NUMBERING, parameters)).one_or_none()
    if row is None:
        await session.rollback()
        return None
    numbered = parameters | {"post_seq": row.seq, "post_event_seq": row.event_seq}
    for statement in _statements_in_turn(insert_message):
        await connection.execute(statement, numbered)
    return row.seq, row.event_seq
