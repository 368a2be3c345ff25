"""Redeeming a mailed token: it must be unused and unexpired, and redeeming it spends its siblings too."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chorus.acts.auth.tokens import hash_secret
from chorus.models import EmailToken, EmailTokenPurpose, User, utcnow
from chorus.web import Problem

WHAT = {EmailTokenPurpose.VERIFY_EMAIL: "verification", EmailTokenPurpose.RESET_PASSWORD: "reset"}


async def redeem(session: AsyncSession, secret: str, purpose: EmailTokenPurpose) -> User:
    """The live account the token was mailed to; every unused token of that purpose for it is spent (not committed).

    Spending is one conditional UPDATE, so two requests racing with the same token cannot both succeed.
    """
    refused = Problem(400, f"the {WHAT[purpose]} token is invalid, used or expired", "invalid_token")
    now = utcnow()
    token = await session.scalar(
        select(EmailToken).where(
            EmailToken.token_hash == hash_secret(secret),
            EmailToken.purpose == purpose,
            EmailToken.used_at.is_(None),
            EmailToken.expires_at > now,
        )
    )
    user = await session.get(User, token.user_id) if token else None
    if token is None or user is None or not user.is_active:
        raise refused
    spent = await session.execute(
        update(EmailToken)
        .where(EmailToken.user_id == user.id, EmailToken.purpose == purpose, EmailToken.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount < 1:  # type: ignore[attr-defined]
        raise refused
    return user
