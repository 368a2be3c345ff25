"""Reading: a page of messages (newest first, keyset pagination), and moving my read marker forward."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from chorus.acts.message.lookup import message_in_thread
from chorus.acts.thread import MyThread, move_read_marker
from chorus.models import Message
from chorus.schema.message import MessageOut, ReadMarker, ReadState
from chorus.schema.page import InvalidCursor, Page, decode_seq_cursor, encode_cursor
from chorus.web import DatabaseSession, Problem, documented

router = APIRouter()

MAX_PAGE = 100
# Plain rows, not ORM objects: a page is read, never changed, and skipping the identity map is cheaper.
COLUMNS = (
    Message.id,
    Message.thread_id,
    Message.seq,
    Message.author_id,
    Message.body,
    Message.created_at,
    Message.edited_at,
    Message.deleted_at,
)


@router.get("/messages", summary="Messages of a thread, newest first", responses=documented(401, 404, 422))
async def list_messages(
    membership: MyThread,
    session: DatabaseSession,
    before: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> Page[MessageOut]:
    query = (
        select(*COLUMNS).where(Message.thread_id == membership.thread.id).order_by(Message.seq.desc()).limit(limit + 1)
    )
    if before is not None:
        try:
            before_seq = decode_seq_cursor(before)
        except InvalidCursor:
            raise Problem(422, "before: not a cursor this API handed out", "invalid_cursor") from None
        query = query.where(Message.seq < before_seq)
    rows = (await session.execute(query)).all()
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1].seq) if len(rows) > limit else None
    return Page[MessageOut](items=[MessageOut.model_validate(row) for row in page], next_cursor=next_cursor)


@router.post(
    "/read",
    summary="Mark a thread read up to a message; the marker never moves back",
    responses=documented(401, 404, 422),
)
async def mark_read(body: ReadMarker, membership: MyThread, session: DatabaseSession) -> ReadState:
    thread, participant = membership.thread, membership.participant
    message = await message_in_thread(session, thread.id, body.message_id)
    marker: uuid.UUID | None
    if message.seq > participant.read_seq:
        await move_read_marker(session, thread_id=thread.id, user_id=participant.user_id, seq=message.seq)
        await session.commit()
        read_seq, marker = message.seq, message.id
    else:
        read_seq = participant.read_seq
        marker = await session.scalar(select(Message.id).where(Message.thread_id == thread.id, Message.seq == read_seq))
    return ReadState(last_read_message_id=marker, unread_count=max(0, thread.last_seq - read_seq))
