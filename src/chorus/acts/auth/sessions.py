"""Login sessions: each is a family of rotating refresh tokens, started at login and ended by revocation."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from chorus.acts.auth.tokens import AccessClaims, digest, issue_access_token, new_secret
from chorus.config import get_settings
from chorus.models import RefreshToken, User, utcnow
from chorus.schema.auth import TokenPair


def issue_token_pair(session: AsyncSession, user: User, family_id: uuid.UUID | None = None) -> TokenPair:
    """A new access token and the next refresh token of ``family_id`` (a new session when None); not committed."""
    family_id = family_id or uuid.uuid4()
    secret = new_secret()
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id,
            token_hash=digest(secret),
            expires_at=utcnow() + timedelta(days=get_settings().refresh_token_days),
        )
    )
    access_token, expires_in = issue_access_token(AccessClaims(user.id, family_id, user.session_version))
    return TokenPair(access_token=access_token, expires_in=expires_in, refresh_token=secret)


async def revoke_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def end_sessions(session: AsyncSession, user_id: uuid.UUID, *, keep: uuid.UUID | None = None) -> None:
    """Revoke every refresh token of ``user_id``, except the session ``keep``; not committed."""
    statement = update(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
    if keep is not None:
        statement = statement.where(RefreshToken.family_id != keep)
    await session.execute(statement.values(revoked_at=utcnow()))
