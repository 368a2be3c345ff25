"""The dependency every scene under ``/threads/{thread_id}`` starts with: the thread, if I am in it.

Someone who is not a participant gets 404, exactly as for a thread that does not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends
from sqlalchemy import select

from chorus.acts.auth import CurrentSession, holder
from chorus.models import Participant, Thread, User
from chorus.web import DatabaseSession, Problem

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Membership:
    thread: Thread
    participant: Participant
    user: User

    @property
    def is_owner(self) -> bool:
        return self.thread.owner_id == self.user.id


def thread_not_found() -> Problem:
    return Problem(404, "no such thread", "thread_not_found")


async def my_thread(thread_id: uuid.UUID, claims: CurrentSession, session: DatabaseSession) -> Membership:
    # One round trip for the account, the thread and my place in it: this runs before every thread scene.
    row = (
        await session.execute(
            select(Thread, Participant, User)
            .join(Participant, Participant.thread_id == Thread.id)
            .join(User, User.id == Participant.user_id)
            .where(Thread.id == thread_id, Participant.user_id == claims.user_id)
        )
    ).one_or_none()
    if row is None:
        holder(await session.get(User, claims.user_id), claims)  # a stale token is 401, not 404
        raise thread_not_found()
    thread, participant, user = row
    return Membership(thread=thread, participant=participant, user=holder(user, claims))


MyThread = Annotated[Membership, Depends(my_thread)]


async def still_in_thread(session: AsyncSession, *, thread_id: uuid.UUID, claims: CurrentSession) -> bool:
    """Whether the token's holder is still a live account and a participant: what a long-lived stream re-checks,
    since ``my_thread`` ran only when it opened (one indexed lookup, no rows loaded)."""
    found = await session.scalar(
        select(Participant.user_id)
        .join(User, User.id == Participant.user_id)
        .where(
            Participant.thread_id == thread_id,
            Participant.user_id == claims.user_id,
            User.deleted_at.is_(None),
            User.session_version == claims.session_version,
        )
    )
    return found is not None
