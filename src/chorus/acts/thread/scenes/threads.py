"""Threads: start one, list mine (most recent activity first), read one, rename it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import Integer, Select, bindparam, func, select, true, tuple_

from chorus.acts.auth import CurrentSession, CurrentUser
from chorus.acts.thread.membership import HOLDER_COLUMNS, MyThread, holder_row
from chorus.acts.thread.replay import REPLAYABLE, IdempotencyKeyHeader, replay_or_take_key
from chorus.db import read_rows
from chorus.models import Message, Participant, Thread, User, utcnow, uuid7
from chorus.schema.page import InvalidCursor, Page, decode_moment_cursor, encode_cursor
from chorus.schema.thread import ParticipantOut, ThreadCreate, ThreadDetail, ThreadRename, ThreadSummary
from chorus.web import DatabaseSession, Problem, documented, json_bytes_response, rate_limited

router = APIRouter()

PREVIEW_CHARS = 140


async def _participants(session: DatabaseSession, thread: Thread) -> list[ParticipantOut]:
    rows = await session.execute(
        select(Participant.user_id, User.display_name, Participant.joined_at)
        .join(User, User.id == Participant.user_id)
        .where(Participant.thread_id == thread.id)
        .order_by(Participant.joined_at, Participant.user_id)
    )
    return [
        ParticipantOut(user_id=user_id, display_name=name, joined_at=joined, is_owner=user_id == thread.owner_id)
        for user_id, name, joined in rows
    ]


def _detail(thread: Thread, participant: Participant, participants: list[ParticipantOut]) -> ThreadDetail:
    return ThreadDetail(
        id=thread.id,
        title=thread.title,
        owner_id=thread.owner_id,
        created_at=thread.created_at,
        last_activity_at=thread.last_activity_at,
        unread_count=thread.last_seq - participant.read_seq,
        participants=participants,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ThreadDetail,
    summary="Start a thread with some people; I own it",
    responses=documented(401, 409, 422, 429, 503) | REPLAYABLE,
    dependencies=[rate_limited("create_thread", CurrentUser)],
)
async def create_thread(
    body: ThreadCreate, user: CurrentUser, session: DatabaseSession, idempotency_key: IdempotencyKeyHeader = None
) -> ThreadDetail | JSONResponse:
    names = {user.id: user.display_name}
    if others := set(body.participant_ids) - {user.id}:
        found = await session.execute(
            select(User.id, User.display_name).where(
                User.id.in_(others), User.deleted_at.is_(None), User.email_verified_at.is_not(None)
            )
        )
        names |= {user_id: name for user_id, name in found}
        if unknown := others - names.keys():
            listed = ", ".join(sorted(str(u) for u in unknown))
            raise Problem(422, f"participant_ids: no such account: {listed}", "unknown_participant")
    now = utcnow()
    thread = Thread(id=uuid7(), title=body.title, owner_id=user.id, created_at=now, last_activity_at=now)
    # Everyone joins at once, so they are listed by id, as `_participants` lists them; the answer is known before
    # anything is written, and is what an Idempotency-Key keeps.
    detail = ThreadDetail(
        id=thread.id,
        title=thread.title,
        owner_id=user.id,
        created_at=now,
        last_activity_at=now,
        unread_count=0,
        participants=[
            ParticipantOut(user_id=member, display_name=name, joined_at=now, is_owner=member == user.id)
            for member, name in sorted(names.items())
        ],
    )
    if idempotency_key is not None:
        request = f"POST /threads {body.model_dump_json()}"
        replay = await replay_or_take_key(
            session, account_id=user.id, key=idempotency_key, request=request, answer=detail
        )
        if replay is not None:
            return replay
    session.add(thread)
    await session.flush()
    session.add_all(Participant(thread_id=thread.id, user_id=member, joined_at=now) for member in names)
    await session.commit()
    return detail


def _my_threads(*, after_cursor: bool) -> Select[Any]:
    """A page of my threads with the account's own state, in one statement built once (two shapes: the first page,
    and one after a cursor), so compiled once: the account left-joined to the page, so a stale token is told apart
    from an empty list. The page of my threads is found first; only its rows are joined to their last message."""
    mine = (
        select(Thread.id, Participant.read_seq)
        .join(Participant, Participant.thread_id == Thread.id)
        .where(Participant.user_id == bindparam("user_id"))
        .order_by(Thread.last_activity_at.desc(), Thread.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )
    if after_cursor:
        after = (
            bindparam("after_at", type_=Thread.last_activity_at.type),
            bindparam("after_id", type_=Thread.id.type),
        )
        mine = mine.where(tuple_(Thread.last_activity_at, Thread.id) < tuple_(*after))
    page = mine.subquery()
    listed = (
        select(
            Thread.id,
            Thread.title,
            Thread.owner_id,
            Thread.last_activity_at,
            (Thread.last_seq - page.c.read_seq).label("unread_count"),
            Message.id.label("message_id"),
            Message.author_id,
            func.substr(Message.body, 1, PREVIEW_CHARS).label("preview"),
            Message.created_at,
        )
        .join(page, page.c.id == Thread.id)
        .outerjoin(Message, Message.id == Thread.last_message_id)
    ).subquery("listed")
    return (
        select(*listed.c, *HOLDER_COLUMNS)
        .select_from(User)
        .outerjoin(listed, true())
        .where(User.id == bindparam("user_id"))
        .order_by(listed.c.last_activity_at.desc(), listed.c.id.desc())
    )


_FIRST_PAGE = _my_threads(after_cursor=False)
_NEXT_PAGE = _my_threads(after_cursor=True)


@router.get(
    "",
    response_model=Page[ThreadSummary],
    summary="My threads, most recent activity first",
    responses=documented(401, 422),
)
async def list_my_threads(
    claims: CurrentSession,
    cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    parameters: dict[str, Any] = {"user_id": claims.user_id, "limit": limit + 1}
    if cursor is not None:
        try:
            parameters["after_at"], parameters["after_id"] = decode_moment_cursor(cursor)
        except InvalidCursor:
            raise Problem(422, "cursor: not a cursor this API handed out", "invalid_cursor") from None
    rows = await read_rows(_FIRST_PAGE if cursor is None else _NEXT_PAGE, parameters)
    if holder_row(rows, claims).id is None:
        rows = []
    # The rows as `ThreadSummary` would write them (UUIDs and UTC times as pydantic writes them), unvalidated:
    # they come from typed columns, and the response's shape is fixed.
    items = [
        {
            "id": row.id,
            "title": row.title,
            "owner_id": row.owner_id,
            "last_activity_at": row.last_activity_at,
            "unread_count": row.unread_count,
            "last_message": None
            if row.message_id is None
            else {"id": row.message_id, "author_id": row.author_id, "body": row.preview, "created_at": row.created_at},
        }
        for row in rows[:limit]
    ]
    last = rows[limit - 1] if len(rows) > limit else None
    body = {
        "items": items,
        "next_cursor": encode_cursor(last.last_activity_at.isoformat(), str(last.id)) if last else None,
    }
    return json_bytes_response(body)


@router.get("/{thread_id}", summary="A thread I am in, with its participants", responses=documented(401, 404, 422))
async def read_thread(membership: MyThread, session: DatabaseSession) -> ThreadDetail:
    participants = await _participants(session, membership.thread)
    return _detail(membership.thread, membership.participant, participants)


@router.patch("/{thread_id}", summary="Rename a thread I own", responses=documented(401, 403, 404, 422))
async def rename_thread(body: ThreadRename, membership: MyThread, session: DatabaseSession) -> ThreadDetail:
    if not membership.is_owner:
        raise Problem(403, "only the thread's owner can rename it", "not_thread_owner")
    membership.thread.title = body.title
    await session.commit()
    return _detail(membership.thread, membership.participant, await _participants(session, membership.thread))
