"""Login sessions: each is a family of rotating refresh tokens, started at login, rotated on refresh, and ended by
revocation, and the ``sid`` of every access token issued for it.

Every access token is checked against its session and its account's credential version. The answer is cached in
the process for ``CHORUS_SESSION_CHECK_SECONDS``, so a session ended by another process stops its access tokens
within that bound, and one ended by this process (logout, password change...) at once.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chorus.acts.auth.tokens import AccessClaims, hash_secret, issue_access_token, new_secret
from chorus.config import get_settings
from chorus.db import read_rows_shared, share_no_earlier_reads
from chorus.models import LoginSession, RefreshToken, User, utcnow
from chorus.schema.auth import TokenPair

CACHE_SIZE = 10_000  # entries; the oldest go first, so a flood of tokens cannot grow the process


@dataclass(frozen=True)
class Client:
    """Who started a session, as shown in the session list: the user agent and address at login."""

    user_agent: str | None
    address: str | None


@dataclass(frozen=True)
class _Seen:
    at: float
    user_id: uuid.UUID
    live: bool


_seen: OrderedDict[tuple[uuid.UUID, int], _Seen] = OrderedDict()
_forgotten = 0  # how many times ``forget`` ran: an answer read across one is not kept


def _remember(claims: AccessClaims, live: bool) -> None:
    key = (claims.session_id, claims.session_version)
    _seen.pop(key, None)
    _seen[key] = _Seen(time.monotonic(), claims.user_id, live)
    while len(_seen) > CACHE_SIZE:
        _seen.popitem(last=False)


def forget(*, user_id: uuid.UUID | None = None, session_id: uuid.UUID | None = None) -> None:
    """Drop this process's cached answers for a person or a session, so what was just ended ends here at once."""
    global _forgotten
    _forgotten += 1
    share_no_earlier_reads()
    for key, seen in list(_seen.items()):
        if seen.user_id == user_id or key[0] == session_id:
            _seen.pop(key, None)


# Built once: its compiled form is cached, and it runs on an autocommit connection of its own (see ``read_rows``).
_SESSION_STATE = (
    select(LoginSession.user_id, LoginSession.ended_at, LoginSession.expires_at, User.session_version)
    .join(User, User.id == LoginSession.user_id)
    .where(LoginSession.id == bindparam("session_id"), User.deleted_at.is_(None))
)


async def session_is_live(claims: AccessClaims) -> bool:
    """True while the token's session is open and unexpired and its account live at the token's credential
    version; answered from the cache when checked less than ``CHORUS_SESSION_CHECK_SECONDS`` ago."""
    seen = _seen.get((claims.session_id, claims.session_version))
    if seen is not None and time.monotonic() - seen.at < get_settings().session_check_seconds:
        return seen.live
    forgotten = _forgotten
    rows = await read_rows_shared(_SESSION_STATE, {"session_id": claims.session_id})
    row = rows[0] if rows else None
    live = (
        row is not None
        and row.user_id == claims.user_id
        and row.ended_at is None
        and row.expires_at > utcnow()
        and row.session_version == claims.session_version
    )
    if forgotten == _forgotten:
        _remember(claims, live)
    return live


def _issue(session: AsyncSession, user: User, login: LoginSession, now: datetime) -> TokenPair:
    """The next refresh token of ``login`` (its sliding expiry capped by the session's absolute one) and an access
    token for it; not committed."""
    secret = new_secret()
    sliding = now + timedelta(days=get_settings().refresh_token_days)
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=login.id,
            token_hash=hash_secret(secret),
            created_at=now,
            expires_at=min(sliding, login.expires_at),
        )
    )
    access_token, expires_in = issue_access_token(AccessClaims(user.id, login.id, user.session_version))
    return TokenPair(access_token=access_token, expires_in=expires_in, refresh_token=secret)


def start_session(session: AsyncSession, user: User, client: Client) -> TokenPair:
    """A new login session for ``user`` and its first token pair; not committed."""
    now = utcnow()
    login = LoginSession(
        id=uuid.uuid4(),
        user_id=user.id,
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(days=get_settings().session_max_days),
        user_agent=client.user_agent[:255] if client.user_agent else None,
        address=client.address[:64] if client.address else None,
    )
    session.add(login)
    return _issue(session, user, login, now)


async def revoke_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    """End one session: its refresh tokens are revoked and its access tokens refused; not committed."""
    now = utcnow()
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await session.execute(
        update(LoginSession).where(LoginSession.id == family_id, LoginSession.ended_at.is_(None)).values(ended_at=now)
    )
    forget(session_id=family_id)


async def end_sessions(session: AsyncSession, user_id: uuid.UUID, *, keep: uuid.UUID | None = None) -> None:
    """End every session of ``user_id``, except the session ``keep``; not committed."""
    now = utcnow()
    tokens = update(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
    logins = update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
    if keep is not None:
        tokens = tokens.where(RefreshToken.family_id != keep)
        logins = logins.where(LoginSession.id != keep)
    await session.execute(tokens.values(revoked_at=now))
    await session.execute(logins.values(ended_at=now))
    forget(user_id=user_id)


async def end_my_session(session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID) -> bool:
    """End ``session_id`` if it is one of ``user_id``'s open sessions; False otherwise (not theirs, unknown or
    already ended: the caller cannot tell which). Not committed."""
    ended = await session.execute(
        update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    if ended.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await revoke_family(session, session_id)
    return True


async def open_sessions(session: AsyncSession, user_id: uuid.UUID) -> list[LoginSession]:
    """``user_id``'s sessions that can still be refreshed, most recently used first."""
    now = utcnow()
    idle_since = now - timedelta(days=get_settings().refresh_token_days)
    found = await session.scalars(
        select(LoginSession)
        .where(
            LoginSession.user_id == user_id,
            LoginSession.ended_at.is_(None),
            LoginSession.expires_at > now,
            LoginSession.last_used_at > idle_since,
        )
        .order_by(LoginSession.last_used_at.desc(), LoginSession.id)
    )
    return list(found)


class RefreshRefused(Exception):
    """The refresh token is unknown, expired, revoked, already spent (its family is then revoked), its session
    ended or past its absolute lifetime, or its account is gone."""


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
    login = await session.get(LoginSession, token.family_id)
    if login is None or login.ended_at is not None or login.expires_at <= now:
        raise RefreshRefused
    user = await session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise RefreshRefused
    login.last_used_at = now
    return _issue(session, user, login, now)
