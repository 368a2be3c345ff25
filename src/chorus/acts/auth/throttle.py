"""Login throttling: too many failures for one account or one client address within a window answer 429."""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chorus.config import get_settings
from chorus.models import LoginFailure, utcnow


def account_key(email: str) -> str:
    return f"account:{email.lower()}"


def address_key(address: str) -> str:
    return f"address:{address}"


async def seconds_until_allowed(session: AsyncSession, *, email: str, address: str) -> int:
    """0 when a login may be tried now; otherwise how long until the oldest counted failure ages out."""
    settings = get_settings()
    window = timedelta(minutes=settings.login_throttle_minutes)
    since = utcnow() - window
    limits = {
        account_key(email): settings.login_failures_per_account,
        address_key(address): settings.login_failures_per_address,
    }
    rows = await session.execute(
        select(LoginFailure.key, func.count(), func.min(LoginFailure.created_at))
        .where(LoginFailure.key.in_(limits), LoginFailure.created_at > since)
        .group_by(LoginFailure.key)
    )
    wait = 0.0
    for key, count, oldest in rows:
        if count >= limits[key]:
            wait = max(wait, (oldest + window - utcnow()).total_seconds())
    return max(1, math.ceil(wait)) if wait > 0 else 0


def record_failure(session: AsyncSession, *, email: str, address: str) -> None:
    session.add_all([LoginFailure(key=account_key(email)), LoginFailure(key=address_key(address))])


async def forget_failures(session: AsyncSession, *, email: str) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.key == account_key(email)))
