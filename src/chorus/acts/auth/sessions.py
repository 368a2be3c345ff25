"""Login sessions: each is a family of rotating refresh tokens, started at login, rotated on refresh, and ended by
revocation."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chorus.acts.auth.tokens import AccessClaims, hash_secret, issue_access_token, new_secret
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
            token_hash=hash_secret(secret),
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


class RefreshRefused(Exception):
    """The refresh token is unknown, expired, revoked, already spent (its family is then revoked), or its account
    is gone."""


async def rotate_refresh_token(session: AsyncSession, presented: str) -> TokenPair:
    """Spend a refresh token for the next pair of its session; not committed.

    A token presented a second time means two holders (one of them a thief): its whole session is revoked, and that
    is committed before refusing.
    """
    now = utcnow()
    token = await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_secret(presented)))
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        raise RefreshRefused
    spent = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token.id, RefreshToken.spent_at.is_(None), RefreshToken.revoked_at.is_(None))
        .values(spent_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        await revoke_family(session, token.family_id)
        await session.commit()
        raise RefreshRefused
    user = await session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise RefreshRefused
    return issue_token_pair(session, user, token.family_id)
