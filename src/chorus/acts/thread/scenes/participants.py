"""Who is in a thread: the owner adds and removes people; anyone can leave."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from sqlalchemy import delete, select

from chorus.acts.thread.event_log import publish_event
from chorus.acts.thread.membership import MyThread
from chorus.models import Participant, User
from chorus.schema.thread import ParticipantAdd, ParticipantOut
from chorus.web import DatabaseSession, Problem, documented

router = APIRouter(prefix="/{thread_id}/participants")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add someone to a thread I own",
    responses=documented(401, 403, 404, 409, 422),
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
    responses=documented(401, 403, 404, 422),
)
async def remove_participant(user_id: uuid.UUID, membership: MyThread, session: DatabaseSession) -> None:
    thread = membership.thread
    leaving = user_id == membership.user.id
    if not leaving and not membership.is_owner:
        raise Problem(403, "only the thread's owner can remove other people", "not_thread_owner")
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


def _str(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)
