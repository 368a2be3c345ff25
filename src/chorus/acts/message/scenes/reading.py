"""Reading: a page of messages (newest first, keyset pagination), and moving my read marker forward."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import Integer, bindparam, select

from chorus.acts.auth import CurrentSession
from chorus.acts.message.lookup import message_in_thread
from chorus.acts.thread import MyThread, move_read_marker, read_if_member
from chorus.models import Message
from chorus.schema.message import MessageOut, ReadMarker, ReadState
from chorus.schema.page import MAX_SEQ, InvalidCursor, Page, decode_seq_cursor, encode_cursor
from chorus.web import DatabaseSession, Problem, documented, json_bytes_response

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


# The page, newest first, before a sequence number (past the last one for the first page): one statement shape,
# built once, whatever the request; ``read_if_member`` wraps it in the caller's membership check.
_PAGE = read_if_member(
    select(*COLUMNS)
    .where(Message.thread_id == bindparam("thread_id"), Message.seq < bindparam("before"))
    .order_by(Message.seq.desc())
    .limit(bindparam("limit", type_=Integer))
)


@router.get(
    "/messages",
    response_model=Page[MessageOut],
    summary="Messages of a thread, newest first",
    responses=documented(401, 404, 422),
)
async def list_messages(
    thread_id: uuid.UUID,
    claims: CurrentSession,
    before: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> Response:
    try:
        before_seq = MAX_SEQ if before is None else decode_seq_cursor(before)
    except InvalidCursor:
        raise Problem(422, "before: not a cursor this API handed out", "invalid_cursor") from None
    rows = await _PAGE.rows(claims, thread_id, {"before": before_seq, "limit": limit + 1})
    page = rows[:limit]
    # The rows as `MessageOut` would write them (UUIDs and UTC times as pydantic writes them), unvalidated:
    # they come from typed columns, and the response's shape is fixed.
    body = {
        "items": [
            {
                "id": row.id,
                "thread_id": row.thread_id,
                "author_id": row.author_id,
                "body": row.body,
                "created_at": row.created_at,
                "edited_at": row.edited_at,
                "deleted_at": row.deleted_at,
            }
            for row in page
        ],
        "next_cursor": encode_cursor(page[-1].seq) if len(rows) > limit else None,
    }
    return json_bytes_response(body)


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
