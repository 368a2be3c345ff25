"""The dependency that guards every authenticated scene: a valid bearer token of a live account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

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
        return read_access_token(token)
    except InvalidToken:
        raise _unauthenticated("invalid or expired access token") from None


CurrentSession = Annotated[AccessClaims, Depends(access_claims)]


def holder(user: User | None, claims: AccessClaims) -> User:
    """The account the token was issued to, if it is still live and the token not outdated; else 401.

    For scenes that load the account together with what they need in one query (see ``current_user``).
    """
    if user is None or not user.is_active or user.session_version != claims.session_version:
        raise _unauthenticated("access token no longer valid")
    return user


async def current_user(session: DatabaseSession, claims: CurrentSession) -> User:
    return holder(await session.get(User, claims.user_id), claims)


CurrentUser = Annotated[User, Depends(current_user)]
