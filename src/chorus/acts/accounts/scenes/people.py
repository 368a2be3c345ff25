"""Other people: a public profile by id, and lookup by display-name prefix or full email address to invite someone.

Only verified, active accounts are visible. An email matches only in full: a prefix would let anyone spell out a
person's address one letter at a time.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, or_, select

from chorus.acts.auth import CurrentUser
from chorus.models import User
from chorus.schema.accounts import ProfileList, PublicProfile
from chorus.schema.fields import SearchText
from chorus.web import DatabaseSession, Problem, documented, rate_limited

router = APIRouter()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@router.get(
    "",
    summary="Find people by display-name prefix or exact email address",
    responses=documented(401, 422, 429, 503),
    dependencies=[rate_limited("people_search", CurrentUser)],
)
async def find_people(
    _: CurrentUser,
    session: DatabaseSession,
    q: Annotated[SearchText, Query(description="The start of a display name, or a whole email address.")],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> ProfileList:
    prefix = _escape_like(q.lower()) + "%"
    # Addresses are stored lower-cased (the Email field), so equality here uses the unique index.
    rows = await session.scalars(
        select(User)
        .where(
            User.deleted_at.is_(None),
            User.email_verified_at.is_not(None),
            or_(func.lower(User.display_name).like(prefix, escape="\\"), User.email == q.lower()),
        )
        .order_by(func.lower(User.display_name), User.id)
        .limit(limit)
    )
    return ProfileList(items=[PublicProfile.model_validate(user) for user in rows])


# The act mounts this scene after `me`: /accounts/me is not a profile id.
@router.get("/{account_id}", summary="Someone's public profile", responses=documented(401, 404, 422))
async def read_profile(account_id: uuid.UUID, _: CurrentUser, session: DatabaseSession) -> PublicProfile:
    user = await session.get(User, account_id)
    # An unverified account may be someone else's address registered by a stranger: it is not shown until proven.
    if user is None or not user.is_active or not user.email_verified:
        raise Problem(404, "no such account", "account_not_found")
    return PublicProfile.model_validate(user)
