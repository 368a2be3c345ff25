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
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Insert, Update, exists, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import FromClause

from chorus.acts.auth import CurrentSession, holder
from chorus.acts.thread.membership import thread_not_found
from chorus.models import Participant, Thread, ThreadEvent, User

# Builds the message's INSERT ... SELECT from ``numbered``, whose column ``seq`` is the message's number; it has one
# row when the post may go ahead and none otherwise, so the INSERT writes nothing for a non-member.
MessageInsert = Callable[[FromClause], Insert]
ReturningUpdate = Any  # an UPDATE ... RETURNING (SQLAlchemy's own type for it is generic over the row)


async def post_new_message(
    session: AsyncSession,
    *,
    thread_id: uuid.UUID,
    claims: CurrentSession,
    message_id: uuid.UUID,
    at: datetime,
    event_data: Any,
    insert_message: MessageInsert,
    in_transaction: bool = False,
) -> ThreadEvent:
    """Post message ``message_id`` (inserted by ``insert_message``) with its ``message.created`` event; the event,
    for the caller to end with ``commit_and_announce``.

    Answers like ``MyThread``: 401 for an account no longer live, 404 for a thread that does not exist or that the
    token's holder is not in, and then nothing is written. On PostgreSQL, unless ``in_transaction`` (a post whose
    Idempotency-Key was taken in the same transaction), the statement runs autocommitted: it is durable when it
    returns, and the caller's commit costs no round trip.
    """
    member = exists().where(
        Participant.thread_id == thread_id,
        Participant.user_id == claims.user_id,
        User.id == Participant.user_id,
        User.deleted_at.is_(None),
        User.session_version == claims.session_version,
    )
    numbering = (
        update(Thread)
        .where(Thread.id == thread_id, member)
        .values(
            last_seq=Thread.last_seq + 1,
            event_seq=Thread.event_seq + 1,
            last_activity_at=at,
            last_message_id=message_id,
        )
        .returning(Thread.last_seq.label("seq"), Thread.event_seq.label("event_seq"))
    )
    event_row = {"thread_id": thread_id, "type": "message.created", "data": event_data, "created_at": at}
    post = _post_in_one_statement if session.get_bind().dialect.name == "postgresql" else _post_in_one_transaction
    marker = functools.partial(_marker_update, thread_id=thread_id, user_id=claims.user_id)
    numbers = await post(session, numbering, event_row, insert_message, marker, in_transaction)
    if numbers is None:
        holder(await session.get(User, claims.user_id), claims)  # a stale token is 401, not 404
        raise thread_not_found()
    return ThreadEvent(seq=numbers[1], **event_row)


def _event_insert(numbered: FromClause, event_row: dict[str, Any]) -> Insert:
    columns = ThreadEvent.__table__.c
    values = [literal(event_row[name], columns[name].type) for name in ("thread_id", "type", "data", "created_at")]
    return insert(ThreadEvent).from_select(
        ["thread_id", "type", "data", "created_at", "seq"], select(*values, numbered.c.event_seq)
    )


def _marker_update(numbered: FromClause, *, thread_id: uuid.UUID, user_id: uuid.UUID) -> Update:
    """Whoever writes has read everything up to what they wrote; the marker only ever moves forward."""
    seq = select(numbered.c.seq).scalar_subquery()
    return (
        update(Participant)
        .where(Participant.thread_id == thread_id, Participant.user_id == user_id, Participant.read_seq < seq)
        .values(read_seq=seq)
        .execution_options(synchronize_session=False)
    )


async def _post_in_one_statement(
    session: AsyncSession,
    numbering: ReturningUpdate,
    event_row: dict[str, Any],
    insert_message: MessageInsert,
    update_marker: Callable[[FromClause], Update],
    in_transaction: bool,
) -> tuple[int, int] | None:
    """One statement of CTEs; autocommitted (its own transaction, no BEGIN or COMMIT round trip) unless the caller
    holds a transaction (then the thread stays locked until the caller commits). A transaction the request's
    dependencies opened for a read (the session check, when not cached) is ended first: the write needs none."""
    numbered = numbering.cte("numbered")
    message = insert_message(numbered).returning(literal(1)).cte("new_message")
    event = _event_insert(numbered, event_row).returning(literal(1)).cte("new_event")
    marker = update_marker(numbered).returning(literal(1)).cte("moved_marker")
    statement = (
        select(numbered.c.seq, numbered.c.event_seq)
        .add_cte(message, event, marker)
        .execution_options(synchronize_session=False)
    )
    if not in_transaction:
        if session.in_transaction():
            await session.commit()
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else (row.seq, row.event_seq)


async def _post_in_one_transaction(
    session: AsyncSession,
    numbering: ReturningUpdate,
    event_row: dict[str, Any],
    insert_message: MessageInsert,
    update_marker: Callable[[FromClause], Update],
    in_transaction: bool,
) -> tuple[int, int] | None:
    row = (await session.execute(numbering.execution_options(synchronize_session=False))).one_or_none()
    if row is None:
        await session.rollback()
        return None
    numbers = select(
        literal(row.seq, BigInteger()).label("seq"), literal(row.event_seq, BigInteger()).label("event_seq")
    ).subquery("numbered")
    await session.execute(insert_message(numbers))
    await session.execute(_event_insert(numbers, event_row))
    await session.execute(update_marker(numbers))
    return row.seq, row.event_seq
