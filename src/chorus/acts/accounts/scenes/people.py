"""Other people: a public profile by id, and lookup by name or email prefix to invite someone."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, or_, select

from chorus.acts.auth import CurrentUser
from chorus.models import User
from chorus.schema.accounts import ProfileList, PublicProfile
from chorus.schema.fields import SearchText
from chorus.web import DatabaseSession, Problem, documented

router = APIRouter()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@router.get("", summary="Find people by display-name or email prefix", responses=documented(401, 422))
async def find_people(
    _: CurrentUser,
    session: DatabaseSession,
    q: Annotated[SearchText, Query(description="Start of a display name or email.")],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> ProfileList:
    prefix = _escape_like(q.lower()) + "%"
    rows = await session.scalars(
        select(User)
        .where(
            User.deleted_at.is_(None),
            User.email_verified_at.is_not(None),
            or_(func.lower(User.display_name).like(prefix, escape="\\"), User.email.like(prefix, escape="\\")),
        )
        .order_by(func.lower(User.display_name), User.id)
        .limit(limit)
    )
    return ProfileList(items=[PublicProfile.model_validate(user) for user in rows])


# The act mounts this scene after `me`: /accounts/me is not a profile id.
@router.get("/{account_id}", summary="Someone's public profile", responses=documented(401, 404, 422))
async def read_profile(account_id: uuid.UUID, _: CurrentUser, session: DatabaseSession) -> PublicProfile:
    user = await session.get(User, account_id)
    if user is None or not user.is_active:
        raise Problem(404, "no such account", "account_not_found")
    return PublicProfile.model_validate(user)
