"""Sessions: log in for a token pair, rotate the refresh token, log out.

A refresh token is single use. Each login starts a family; presenting a token that was already spent means it
was copied, so the whole family is revoked and its holder, whoever it is, must log in again.
"""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status
from sqlalchemy import select

from chorus.acts.auth import throttle
from chorus.acts.auth.password_hashing import verify_password_off_loop
from chorus.acts.auth.sessions import Client, RefreshRefused, revoke_family, rotate_refresh_token, start_session
from chorus.acts.auth.tokens import hash_secret
from chorus.adapters.rate_limits import LimitsUnavailable
from chorus.models import RefreshToken, User
from chorus.schema.auth import PasswordLogin, RefreshTokenIn, TokenPair
from chorus.web import DatabaseSession, Problem, client_address, documented

router = APIRouter()

LoginForm = Annotated[PasswordLogin, Form()]

# Tokens must not be kept by a browser's or a proxy's cache (RFC 6749 5.1, ASVS 3.5).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
RETRY_SOON = {"Retry-After": "5"}


def _invalid_refresh_token() -> Problem:
    return Problem(401, "the refresh token is invalid, expired or revoked", "invalid_refresh_token")


@router.post(
    "/token",
    summary="Log in with email (as username) and password",
    responses=documented(401, 422, 429, 503),
)
async def log_in(form: LoginForm, request: Request, response: Response, session: DatabaseSession) -> TokenPair:
    pair = await open_session(form, request, session)
    response.headers.update(NO_STORE)
    return pair


async def open_session(form: PasswordLogin, request: Request, session: DatabaseSession) -> TokenPair:
    """Check the password (throttled, hashed off the loop) and start a login session: the part of logging in that
    an API client and a browser share; committed."""
    email = form.username.strip().lower()
    address = client_address(request)
    try:
        wait = await throttle.admit(email=email, address=address)  # counted before hashing: no race past the limit
    except LimitsUnavailable:
        raise Problem(503, "logging in is unavailable; try again shortly", "unavailable", RETRY_SOON) from None
    if wait:
        raise Problem(
            429,
            "too many failed logins; try again later",
            "too_many_attempts",
            headers={"Retry-After": str(wait)},
        )
    user = await session.scalar(select(User).where(User.email == email, User.deleted_at.is_(None)))
    stored_hash = user.password_hash if user else None
    await session.commit()  # hand the connection back: none is held while hashing
    matches, upgraded_hash = await verify_password_off_loop(form.password, stored_hash)
    if user is None or not matches:
        raise Problem(401, "incorrect email or password", "invalid_credentials", {"WWW-Authenticate": "Bearer"})
    with contextlib.suppress(LimitsUnavailable):  # the counts age out on their own: a right password still works
        await throttle.succeeded(email=email, address=address)
    if user.email_verified_at is None:
        raise Problem(401, "verify your email address before logging in", "email_not_verified")
    if upgraded_hash:
        user.password_hash = upgraded_hash
    pair = start_session(session, user, Client(request.headers.get("user-agent"), address))
    await session.commit()
    return pair


@router.post("/refresh", summary="Trade a refresh token for a new token pair", responses=documented(401, 422))
async def refresh(body: RefreshTokenIn, response: Response, session: DatabaseSession) -> TokenPair:
    try:
        pair = await rotate_refresh_token(session, body.refresh_token)
    except RefreshRefused:
        raise _invalid_refresh_token() from None
    await session.commit()
    response.headers.update(NO_STORE)
    return pair


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End the session the refresh token belongs to",
    responses=documented(401, 422),
)
async def log_out(body: RefreshTokenIn, session: DatabaseSession) -> None:
    family_id = await session.scalar(
        select(RefreshToken.family_id).where(RefreshToken.token_hash == hash_secret(body.refresh_token))
    )
    if family_id is None:
        raise _invalid_refresh_token()
    await revoke_family(session, family_id)
    await session.commit()
