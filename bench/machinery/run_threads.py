"""What a run adds to the data set and takes away again: its own threads, each with ten participants.

Posting and live updates go to threads made for the run, so the seeded threads (the big one above all) stay as
``make seed`` wrote them. The threads are removed when the run ends, and leftovers of a crashed run when the
next one starts (they are recognised by their title).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select

from bench.machinery.dataset import Dataset
from chorus.models import Participant, Thread, User, utcnow, uuid7
from chorus.schema.page import encode_cursor

TITLE_PREFIX = "bench run "
PARTICIPANTS = 10
DEEP_MESSAGES = 900_000


@dataclass(frozen=True)
class Member:
    id: uuid.UUID
    email: str


@dataclass(frozen=True)
class RunThreads:
    members: list[Member]  # the busy user first
    post_thread_id: uuid.UUID
    live_thread_id: uuid.UUID
    ceiling_thread_id: uuid.UUID  # where the insert ceiling writes
    big_thread_id: uuid.UUID
    deep_cursor: str  # ``before`` for the page 900,000 messages from the newest

    @property
    def author(self) -> Member:
        return self.members[0]


def remove_run_threads() -> int:
    """Delete every thread a bench run made (messages, events, participants and digests go with them)."""
    from chorus.db import task_session

    with task_session() as session:
        removed = session.execute(delete(Thread).where(Thread.title.startswith(TITLE_PREFIX)))
        session.commit()
    return int(removed.rowcount)  # type: ignore[attr-defined]


def forget_sessions() -> int:
    """Delete the refresh tokens that logging in left (the seed makes none, so every one is a bench run's)."""
    from chorus.db import task_session
    from chorus.models import RefreshToken

    with task_session() as session:
        removed = session.execute(delete(RefreshToken))
        session.commit()
    return int(removed.rowcount)  # type: ignore[attr-defined]


def create_run_threads(run_id: str, dataset: Dataset) -> RunThreads:
    from chorus.db import task_session

    with task_session() as session:
        others = session.execute(
            select(User.id, User.email)
            .where(User.id != dataset.busy_user_id, User.deleted_at.is_(None), User.email_verified_at.is_not(None))
            .order_by(User.id)
            .limit(PARTICIPANTS - 1)
        ).all()
        members = [Member(dataset.busy_user_id, dataset.busy_user_email)] + [Member(id, email) for id, email in others]
        thread_ids = {}
        for purpose in ("posts", "live", "insert ceiling"):
            now = utcnow()
            thread = Thread(
                id=uuid7(),
                title=f"{TITLE_PREFIX}{run_id}: {purpose}",
                owner_id=dataset.busy_user_id,
                created_at=now,
                last_activity_at=now,
            )
            session.add(thread)
            session.flush()
            session.add_all(Participant(thread_id=thread.id, user_id=member.id, joined_at=now) for member in members)
            thread_ids[purpose] = thread.id
        session.commit()
    return RunThreads(
        members=members,
        post_thread_id=thread_ids["posts"],
        live_thread_id=thread_ids["live"],
        ceiling_thread_id=thread_ids["insert ceiling"],
        big_thread_id=dataset.big_thread_id,
        deep_cursor=encode_cursor(dataset.big_thread_last_seq - DEEP_MESSAGES + 1),
    )
