"""The dependency every scene under ``/threads/{thread_id}`` starts with: the thread, if I am in it.

Someone who is not a participant gets 404, exactly as for a thread that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import ColumnElement, Row, Select, Subquery, and_, bindparam, select

from chorus.acts.auth import CurrentSession, holder, stale_token
from chorus.db import read_rows, read_rows_shared
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


# Built once (its compiled form cached): what every open stream re-checks.
_STILL_IN_THREAD = (
    select(Participant.user_id)
    .join(User, User.id == Participant.user_id)
    .where(
        Participant.thread_id == bindparam("thread_id"),
        Participant.user_id == bindparam("user_id"),
        User.deleted_at.is_(None),
        User.session_version == bindparam("session_version"),
    )
)


async def still_in_thread(*, thread_id: uuid.UUID, claims: CurrentSession) -> bool:
    """Whether the token's holder is still a live account and a participant: what a long-lived stream re-checks,
    since ``my_thread`` ran only when it opened. One indexed lookup, shared by the holder's streams of the thread
    that ask at the same moment."""
    parameters = {"thread_id": thread_id, "user_id": claims.user_id, "session_version": claims.session_version}
    return bool(await read_rows_shared(_STILL_IN_THREAD, parameters))


# The caller's account in a read of their own: a statement that selects from ``User`` (the caller) carries these, so
# that one round trip also tells a stale token (``holder_row``) as ``CurrentUser`` would.
HOLDER_COLUMNS = (User.deleted_at.label("holder_deleted_at"), User.session_version.label("holder_version"))


def holder_row(rows: Sequence[Row[Any]], claims: CurrentSession) -> Row[Any]:
    """The first of ``rows`` (rows with ``HOLDER_COLUMNS``) if it shows the token's account live and at the token's
    credential version; else 401, as ``CurrentUser`` answers (no row: no such account)."""
    first = rows[0] if rows else None
    if first is None or first.holder_deleted_at is not None or first.holder_version != claims.session_version:
        raise stale_token()
    return first


@dataclass(frozen=True)
class MemberRead:
    """A read-only statement that answers its rows only to a participant of the thread, in the same round trip as
    the check; built once by `read_if_member`."""

    statement: Select[*tuple[Any, ...]]

    async def rows(
        self, claims: CurrentSession, thread_id: uuid.UUID, parameters: Mapping[str, Any]
    ) -> Sequence[Row[Any]]:
        """The page's rows (each also carries the check's three columns); 401 for a token whose account is gone or
        outdated, 404 if the caller is not in the thread (or it does not exist), exactly as ``MyThread`` answers."""
        found = await read_rows(self.statement, {"user_id": claims.user_id, "thread_id": thread_id, **parameters})
        if holder_row(found, claims).member_id is None:
            raise thread_not_found()
        return found if found[0][0] is not None else ()


def read_if_member(
    page: Select[*tuple[Any, ...]], order: Callable[[Subquery], Sequence[ColumnElement[Any]]] | None = None
) -> MemberRead:
    """``page`` (bound parameters ``thread_id`` and its own) behind the membership check, as one statement: the
    caller's account, left-joined to their place in the thread, left-joined to the page when they have one. Its
    rows keep ``page``'s order (``order`` maps it onto the page as a subquery; by default newest ``seq`` first)."""
    rows = page.subquery("page")
    outer_order = order(rows) if order is not None else (rows.c.seq.desc(),)
    statement = (
        select(
            *rows.c,
            Participant.user_id.label("member_id"),
            *HOLDER_COLUMNS,
        )
        .select_from(User)
        .outerjoin(Participant, and_(Participant.thread_id == bindparam("thread_id"), Participant.user_id == User.id))
        .outerjoin(rows, Participant.user_id.is_not(None))
        .where(User.id == bindparam("user_id"))
        .order_by(*outer_order)
    )
    return MemberRead(statement)
