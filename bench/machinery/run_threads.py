"""What a run adds to the data set and takes away again: its own threads, each with ten participants.

Posting and live updates go to threads made for the run, so the seeded threads (the big one above all) stay as
``make seed`` wrote them. The threads are removed when the run ends, and leftovers of a crashed run when the
next one starts (they are recognised by their title). The soak's threads have a prefix of their own, so a soak
and a ``make bench`` on the same database do not remove each other's threads.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bench.machinery.dataset import Dataset
from chorus.models import Participant, Thread, User, utcnow, uuid7
from chorus.schema.page import encode_cursor

TITLE_PREFIX = "bench run "
SOAK_TITLE_PREFIX = "bench soak "
PARTICIPANTS = 10
DEEP_MESSAGES = 900_000
SPREAD_THREADS = 100


@dataclass(frozen=True)
class Member:
    id: uuid.UUID
    email: str


@dataclass(frozen=True)
class RunThreads:
    run_id: str
    members: list[Member]  # the busy user first
    post_thread_id: uuid.UUID
    spread_thread_ids: list[uuid.UUID]  # posts spread over these, each request to the next
    live_thread_id: uuid.UUID
    ceiling_thread_id: uuid.UUID  # where the insert ceiling writes
    big_thread_id: uuid.UUID
    deep_cursor: str  # ``before`` for the page 900,000 messages from the newest

    @property
    def author(self) -> Member:
        return self.members[0]

    @property
    def creator(self) -> Member:
        """Who starts threads in the POST /threads scenarios: not the busy user, whose thread list is measured."""
        return self.members[1]

    @property
    def new_thread_title(self) -> str:
        """The title of the threads POST /threads starts: a run's title, so the run's end removes them too."""
        return f"{TITLE_PREFIX}{self.run_id}: started"


@dataclass(frozen=True)
class SoakThreads:
    members: list[Member]  # the busy user first; every member is in every thread
    thread_ids: list[uuid.UUID]


def remove_run_threads(prefix: str = TITLE_PREFIX) -> int:
    """Delete every thread a bench run made (messages, events, participants and digests go with them)."""
    from chorus.db import task_session

    with task_session() as session:
        removed = session.execute(delete(Thread).where(Thread.title.startswith(prefix)))
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


def _members(session: Session, dataset: Dataset) -> list[Member]:
    others = session.execute(
        select(User.id, User.email)
        .where(User.id != dataset.busy_user_id, User.deleted_at.is_(None), User.email_verified_at.is_not(None))
        .order_by(User.id)
        .limit(PARTICIPANTS - 1)
    ).all()
    return [Member(dataset.busy_user_id, dataset.busy_user_email)] + [Member(id, email) for id, email in others]


def _add_thread(session: Session, title: str, members: list[Member]) -> uuid.UUID:
    now = utcnow()
    thread = Thread(id=uuid7(), title=title, owner_id=members[0].id, created_at=now, last_activity_at=now)
    session.add(thread)
    session.flush()
    session.add_all(Participant(thread_id=thread.id, user_id=member.id, joined_at=now) for member in members)
    return thread.id


def create_run_threads(run_id: str, dataset: Dataset) -> RunThreads:
    from chorus.db import task_session

    with task_session() as session:
        members = _members(session, dataset)
        thread_ids = {
            purpose: _add_thread(session, f"{TITLE_PREFIX}{run_id}: {purpose}", members)
            for purpose in ("posts", "live", "insert ceiling")
        }
        spread = [
            _add_thread(session, f"{TITLE_PREFIX}{run_id}: spread {number}", members)
            for number in range(SPREAD_THREADS)
        ]
        session.commit()
    return RunThreads(
        run_id=run_id,
        members=members,
        post_thread_id=thread_ids["posts"],
        spread_thread_ids=spread,
        live_thread_id=thread_ids["live"],
        ceiling_thread_id=thread_ids["insert ceiling"],
        big_thread_id=dataset.big_thread_id,
        deep_cursor=encode_cursor(dataset.big_thread_last_seq - DEEP_MESSAGES + 1),
    )


def create_soak_threads(run_id: str, dataset: Dataset, count: int) -> SoakThreads:
    """``count`` threads for a soak, the same ten members in each."""
    from chorus.db import task_session

    with task_session() as session:
        members = _members(session, dataset)
        titles = [f"{SOAK_TITLE_PREFIX}{run_id}: {number}" for number in range(count)]
        thread_ids = [_add_thread(session, title, members) for title in titles]
        session.commit()
    return SoakThreads(members=members, thread_ids=thread_ids)
