"""The dependency that guards every authenticated scene: a valid bearer token of a live session of a live account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from chorus.acts.auth.sessions import session_is_live
from chorus.acts.auth.tokens import AccessClaims, InvalidToken, read_access_token
from chorus.models import User
from chorus.web import DatabaseSession, Problem

bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def _unauthenticated(detail: str) -> Problem:
    return Problem(401, detail, "not_authenticated", headers={"WWW-Authenticate": "Bearer"})


async def access_claims(token: Annotated[str | None, Depends(bearer)]) -> AccessClaims:
    if not token:
        raise _unauthenticated("missing bearer token")
    try:
        claims = read_access_token(token)
    except InvalidToken:
        raise _unauthenticated("invalid or expired access token") from None
    if not await session_is_live(claims):
        raise _unauthenticated("the session has ended; log in again")
    return claims


CurrentSession = Annotated[AccessClaims, Depends(access_claims)]


async def access_is_live(claims: AccessClaims) -> bool:
    """Whether a token's session and credential version still hold, for a long-lived connection (a stream) to
    re-check between deliveries; it shares the request guard's cache, so asking often costs no query."""
    return await session_is_live(claims)


def stale_token() -> Problem:
    """The 401 for a token whose account is gone or whose credentials changed since it was issued."""
    return _unauthenticated("access token no longer valid")


def holder(user: User | None, claims: AccessClaims) -> User:
    """The account the token was issued to, if it is still live and the token not outdated; else 401.

    For scenes that load the account together with what they need in one query (see ``current_user``).
    """
    if user is None or not user.is_active or user.session_version != claims.session_version:
        raise stale_token()
    return user


async def current_user(session: DatabaseSession, claims: CurrentSession) -> User:
    return holder(await session.get(User, claims.user_id), claims)


CurrentUser = Annotated[User, Depends(current_user)]
