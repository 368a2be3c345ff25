"""Writing: post a message, edit or delete my own (a deleted message stays as a tombstone without its body).

Editing or deleting also scrubs the message's earlier text from the thread's event log, so replaying it never
brings back what its author took back.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from sqlalchemy import Insert, bindparam, insert, select
from sqlalchemy.sql.selectable import FromClause

from chorus.acts.auth import CurrentSession
from chorus.acts.message.lookup import message_in_thread
from chorus.acts.thread import (
    REPLAYABLE,
    IdempotencyKeyHeader,
    MyThread,
    commit_and_announce,
    my_thread,
    post_new_message,
    publish_event,
    replay_or_take_key,
    scrub_message_text,
)
from chorus.models import Message, utcnow, uuid7
from chorus.schema.message import MessageCreate, MessageEdit, MessageOut
from chorus.web import DatabaseSession, Problem, documented

router = APIRouter(prefix="/messages")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageOut,
    summary="Post a message to a thread I am in",
    responses=documented(401, 404, 409, 422) | REPLAYABLE,
)
async def post_message(
    thread_id: uuid.UUID,
    body: MessageCreate,
    claims: CurrentSession,
    session: DatabaseSession,
    idempotency_key: IdempotencyKeyHeader = None,
) -> MessageOut | JSONResponse:
    # No MyThread here: the membership check is folded into the post's one statement (same 401/404 answers).
    author_id = claims.user_id
    now, message_id = utcnow(), uuid7()
    out = MessageOut(
        id=message_id,
        thread_id=thread_id,
        author_id=author_id,
        body=body.body,
        created_at=now,
        edited_at=None,
        deleted_at=None,
    )
    if idempotency_key is not None:
        # The key is taken in the post's transaction, after the membership check (a stranger's retry is still 404)
        # and before the thread's counters are touched: a retry stops there.
        await my_thread(thread_id, claims, session)
        request = f"POST /threads/{thread_id}/messages {body.model_dump_json()}"
        replay = await replay_or_take_key(
            session, account_id=author_id, key=idempotency_key, request=request, answer=out
        )
        if replay is not None:
            return replay

    event = await post_new_message(
        session,
        thread_id=thread_id,
        claims=claims,
        message_id=message_id,
        at=now,
        event_data=out.model_dump(mode="json"),
        insert_message=_insert_message,
        message_parameters={"post_body": body.body},
        in_transaction=idempotency_key is not None,
    )
    await commit_and_announce(session, event)
    return out


_PARAMETER_OF_COLUMN = {
    "id": "post_message",
    "thread_id": "post_thread",
    "author_id": "post_author",
    "body": "post_body",
    "created_at": "post_at",
}


def _insert_message(numbered: FromClause) -> Insert:
    """The message row, numbered by the thread act's statement (built once: see ``post_new_message``)."""
    columns = Message.__table__.c
    values = [bindparam(name, type_=columns[column].type) for column, name in _PARAMETER_OF_COLUMN.items()]
    return insert(Message).from_select([*_PARAMETER_OF_COLUMN, "seq"], select(*values, numbered.c.seq))


async def _my_message(membership: MyThread, session: DatabaseSession, message_id: uuid.UUID) -> Message:
    message = await message_in_thread(session, membership.thread.id, message_id)
    if message.author_id != membership.user.id:
        raise Problem(403, "only its author can change a message", "not_message_author")
    return message


@router.patch(
    "/{message_id}",
    summary="Edit a message I wrote",
    responses=documented(401, 403, 404, 409, 422),
)
async def edit_message(
    message_id: uuid.UUID, body: MessageEdit, membership: MyThread, session: DatabaseSession
) -> MessageOut:
    message = await _my_message(membership, session, message_id)
    if message.deleted_at is not None:
        raise Problem(409, "a deleted message cannot be edited", "message_deleted")
    # The earlier text leaves the event log with the edit: a replay shows only what the message says now.
    await scrub_message_text(session, thread_id=message.thread_id, message_id=message.id, since=message.created_at)
    message.body = body.body
    message.edited_at = utcnow()
    out = MessageOut.model_validate(message)
    await publish_event(session, thread_id=message.thread_id, type_="message.edited", data=out.model_dump(mode="json"))
    return out


@router.delete(
    "/{message_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a message I wrote; it stays in the thread as a tombstone",
    responses=documented(401, 403, 404, 422),
)
async def delete_message(message_id: uuid.UUID, membership: MyThread, session: DatabaseSession) -> None:
    message = await _my_message(membership, session, message_id)
    if message.deleted_at is not None:
        return  # already a tombstone: deleting again changes nothing
    await scrub_message_text(session, thread_id=message.thread_id, message_id=message.id, since=message.created_at)
    message.body = None
    message.deleted_at = utcnow()
    data = {"id": str(message.id), "deleted_at": message.deleted_at.isoformat()}
    await publish_event(session, thread_id=message.thread_id, type_="message.deleted", data=data)
