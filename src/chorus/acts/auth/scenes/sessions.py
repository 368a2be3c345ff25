"""My sessions: list the logins that can still be used, and end one of them (a lost phone, a shared computer)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from chorus.acts.auth.guard import CurrentSession, CurrentUser
from chorus.acts.auth.sessions import end_my_session, open_sessions
from chorus.schema.auth import SessionInfo, SessionList
from chorus.web import DatabaseSession, Problem, documented

router = APIRouter(prefix="/sessions")


@router.get("", summary="My open sessions, the current one marked", responses=documented(401))
async def list_my_sessions(
    user: CurrentUser, claims: CurrentSession, session: DatabaseSession, response: Response
) -> SessionList:
    response.headers["Cache-Control"] = "no-store"
    items = [
        SessionInfo(
            id=login.id,
            created_at=login.created_at,
            last_used_at=login.last_used_at,
            expires_at=login.expires_at,
            user_agent=login.user_agent,
            address=login.address,
            current=login.id == claims.session_id,
        )
        for login in await open_sessions(session, user.id)
    ]
    return SessionList(items=items)


@router.delete(
    "/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End one of my sessions; its tokens stop working",
    responses=documented(401, 404, 422),
)
async def end_one_of_my_sessions(session_id: uuid.UUID, user: CurrentUser, session: DatabaseSession) -> None:
    # Someone else's session answers exactly like an unknown one: its existence is not revealed.
    if not await end_my_session(session, user.id, session_id):
        raise Problem(404, "no such session", "session_not_found")
    await session.commit()
