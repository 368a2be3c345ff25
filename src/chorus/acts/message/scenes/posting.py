"""Writing: post a message, edit or delete my own (a deleted message stays as a tombstone without its body)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from sqlalchemy import update

from chorus.acts.message.lookup import message_in_thread
from chorus.acts.thread import MyThread, announce, log_event, record_event
from chorus.models import Message, Participant, Thread, utcnow, uuid7
from chorus.schema.message import MessageCreate, MessageEdit, MessageOut
from chorus.web import DatabaseSession, Problem, documented

router = APIRouter(prefix="/messages")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Post a message to a thread I am in",
    responses=documented(401, 404, 422),
)
async def post_message(body: MessageCreate, membership: MyThread, session: DatabaseSession) -> MessageOut:
    thread_id, author_id = membership.thread.id, membership.user.id
    now, message_id = utcnow(), uuid7()
    # One statement numbers the message and its event and moves the thread's activity; the row lock it takes
    # orders concurrent posts, so numbers follow commit order.
    seq, event_seq = (
        await session.execute(
            update(Thread)
            .where(Thread.id == thread_id)
            .values(
                last_seq=Thread.last_seq + 1,
                event_seq=Thread.event_seq + 1,
                last_activity_at=now,
                last_message_id=message_id,
            )
            .returning(Thread.last_seq, Thread.event_seq)
            .execution_options(synchronize_session=False)
        )
    ).one()
    message = Message(id=message_id, thread_id=thread_id, seq=seq, author_id=author_id, body=body.body, created_at=now)
    session.add(message)
    out = MessageOut(
        id=message_id,
        thread_id=thread_id,
        author_id=author_id,
        body=body.body,
        created_at=now,
        edited_at=None,
        deleted_at=None,
    )
    event = log_event(session, thread_id, event_seq, "message.created", out.model_dump(mode="json"))
    # Whoever writes has read everything up to what they wrote.
    await session.execute(
        update(Participant)
        .where(Participant.thread_id == thread_id, Participant.user_id == author_id)
        .values(read_seq=seq)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    await announce(event)
    return out


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
    message.body = body.body
    message.edited_at = utcnow()
    out = MessageOut.model_validate(message)
    event = await record_event(session, message.thread_id, "message.edited", out.model_dump(mode="json"))
    await session.commit()
    await announce(event)
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
    message.body = None
    message.deleted_at = utcnow()
    data = {"id": str(message.id), "deleted_at": message.deleted_at.isoformat()}
    event = await record_event(session, message.thread_id, "message.deleted", data)
    await session.commit()
    await announce(event)
