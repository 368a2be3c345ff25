"""Who is in a thread: the owner adds and removes people; anyone can leave.

Someone who left is not added back by others for CHORUS_REJOIN_BLOCK_HOURS (409 ``left_recently``): leaving is how a
person gets out of a thread a stranger started, and an instant re-add would undo it. Being removed by the owner sets
no such block.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from sqlalchemy import delete, select

from chorus.acts.auth import CurrentUser
from chorus.acts.thread.event_log import publish_event
from chorus.acts.thread.membership import MyThread
from chorus.adapters import rate_limits
from chorus.config import get_settings
from chorus.models import Participant, User
from chorus.schema.thread import ParticipantAdd, ParticipantOut
from chorus.web import DatabaseSession, Problem, documented, rate_limited

router = APIRouter(prefix="/{thread_id}/participants")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add someone to a thread I own",
    responses=documented(401, 403, 404, 409, 422, 429, 503),
    dependencies=[rate_limited("add_participant", CurrentUser)],
)
async def add_participant(body: ParticipantAdd, membership: MyThread, session: DatabaseSession) -> ParticipantOut:
    if not membership.is_owner:
        raise Problem(403, "only the thread's owner can add people", "not_thread_owner")
    user = await session.get(User, body.user_id)
    if user is None or not user.is_active or not user.email_verified:
        raise Problem(422, f"user_id: no such account: {body.user_id}", "unknown_participant")
    thread = membership.thread
    if await session.get(Participant, (thread.id, user.id)) is not None:
        raise Problem(409, "already a participant of this thread", "already_participant")
    if await _left_recently(thread.id, user.id):
        raise Problem(409, "this person left the thread recently; they can be added again later", "left_recently")
    # Newcomers start caught up: what was said before they joined is not unread for them.
    participant = Participant(
        thread_id=thread.id, user_id=user.id, read_seq=thread.last_seq, notified_seq=thread.last_seq
    )
    session.add(participant)
    await session.flush()
    added = ParticipantOut(
        user_id=user.id, display_name=user.display_name, joined_at=participant.joined_at, is_owner=False
    )
    await publish_event(session, thread_id=thread.id, type_="participant.added", data=added.model_dump(mode="json"))
    return added


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove someone from a thread I own, or leave a thread",
    responses=documented(401, 403, 404, 422, 503),
)
async def remove_participant(user_id: uuid.UUID, membership: MyThread, session: DatabaseSession) -> None:
    thread = membership.thread
    leaving = user_id == membership.user.id
    if not leaving and not membership.is_owner:
        raise Problem(403, "only the thread's owner can remove other people", "not_thread_owner")
    if leaving:
        await _mark_left(thread.id, user_id)  # before this request writes: the store may be the same SQLite file
    removed = await session.execute(
        delete(Participant).where(Participant.thread_id == thread.id, Participant.user_id == user_id)
    )
    if removed.rowcount != 1:  # type: ignore[attr-defined]
        raise Problem(404, "not a participant of this thread", "participant_not_found")
    if thread.owner_id == user_id:
        # The owner left: the longest-standing participant takes over (nobody, if the thread is now empty).
        thread.owner_id = await session.scalar(
            select(Participant.user_id)
            .where(Participant.thread_id == thread.id)
            .order_by(Participant.joined_at, Participant.user_id)
            .limit(1)
        )
    data = {"user_id": str(user_id), "owner_id": _str(thread.owner_id)}
    await publish_event(session, thread_id=thread.id, type_="participant.removed", data=data)


def _rejoin_block() -> rate_limits.RateLimitItem | None:
    hours = get_settings().rejoin_block_hours
    return rate_limits.parse(f"1/{hours}hours") if hours else None


async def _mark_left(thread_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Remember the leaving in the rate-limit store: its single allowed hit is spent for the block's duration."""
    block = _rejoin_block()
    if block is not None:
        try:
            await rate_limits.hit(block, "left", str(thread_id), str(user_id))
        except rate_limits.LimitsUnavailable:
            raise Problem(503, "try again shortly", "unavailable", {"Retry-After": "5"}) from None


async def _left_recently(thread_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    block = _rejoin_block()
    if block is None:
        return False
    try:
        return bool(await rate_limits.test(block, "left", str(thread_id), str(user_id)))
    except rate_limits.LimitsUnavailable:
        raise Problem(503, "try again shortly", "unavailable", {"Retry-After": "5"}) from None


def _str(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)
