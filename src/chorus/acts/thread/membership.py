"""The dependency every scene under ``/threads/{thread_id}`` starts with: the thread, if I am in it.

Someone who is not a participant gets 404, exactly as for a thread that does not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy import select

from chorus.acts.auth import CurrentUser
from chorus.models import Participant, Thread, User
from chorus.web import DatabaseSession, Problem


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


async def my_thread(thread_id: uuid.UUID, user: CurrentUser, session: DatabaseSession) -> Membership:
    row = (
        await session.execute(
            select(Thread, Participant)
            .join(Participant, Participant.thread_id == Thread.id)
            .where(Thread.id == thread_id, Participant.user_id == user.id)
        )
    ).one_or_none()
    if row is None:
        raise thread_not_found()
    return Membership(thread=row[0], participant=row[1], user=user)


MyThread = Annotated[Membership, Depends(my_thread)]
