"""Browser sessions: the same logins as ``/auth/token``, with the refresh token in a cookie no script can read.

A page keeps only the short-lived access token, in memory, and sends it as a bearer token like any client (the live
stream too: the page reads it with ``fetch``, which can send headers, where ``EventSource`` cannot). The refresh
token travels only between the browser and ``/auth/browser``: HttpOnly, SameSite=Strict, and refused without the
``X-Chorus-Browser`` header, which another site cannot make a browser send (that needs a CORS grant chorus never
gives). No other route reads the cookie, so the API offers other clients nothing new to forge.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, Header, Request, Response, status
from sqlalchemy import select

from chorus.acts.auth.scenes.login import NO_STORE, LoginForm, open_session
from chorus.acts.auth.sessions import RefreshRefused, revoke_family, rotate_refresh_token
from chorus.acts.auth.tokens import hash_secret
from chorus.config import Environment, get_settings
from chorus.models import RefreshToken
from chorus.schema.auth import BrowserAccess, TokenPair
from chorus.web import DatabaseSession, Problem, documented

COOKIE = "chorus_refresh"
COOKIE_PATH = "/auth/browser"
HEADER = "X-Chorus-Browser"


def from_a_page(x_chorus_browser: Annotated[str | None, Header(description="Must be `1`.")] = None) -> None:
    """The CSRF guard: only a same-origin script can add this header, so a forged form or link is refused."""
    if x_chorus_browser != "1":
        raise Problem(403, f"send the {HEADER}: 1 header from the page", "browser_header_required")


router = APIRouter(prefix="/browser", dependencies=[Depends(from_a_page)])
RefreshCookie = Annotated[str | None, Cookie(alias=COOKIE, max_length=200)]


def _answer(request: Request, response: Response, pair: TokenPair) -> BrowserAccess:
    settings = get_settings()
    response.set_cookie(
        COOKIE,
        pair.refresh_token,
        max_age=settings.refresh_token_days * 24 * 3600,
        path=COOKIE_PATH,
        secure=request.url.scheme == "https" or settings.env is Environment.PRODUCTION,
        httponly=True,
        samesite="strict",
    )
    response.headers.update(NO_STORE)
    return BrowserAccess(access_token=pair.access_token, expires_in=pair.expires_in)


def _forget_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


def _cookie_dropped() -> str:
    """The ``Set-Cookie`` value that drops the cookie, for an error answer (which is not the route's response)."""
    dropped = Response()
    _forget_cookie(dropped)
    return dropped.headers["set-cookie"]


@router.post(
    "/login",
    summary="Log in from a page: the access token in the answer, the refresh token in an HttpOnly cookie",
    responses=documented(401, 403, 422, 429, 503),
)
async def log_in_from_a_page(
    form: LoginForm, request: Request, response: Response, session: DatabaseSession
) -> BrowserAccess:
    return _answer(request, response, await open_session(form, request, session))


@router.post(
    "/refresh",
    summary="A new access token for the page's session; the cookie's refresh token rotates",
    responses=documented(401, 403, 422),
)
async def refresh_from_a_page(
    request: Request, response: Response, session: DatabaseSession, refresh_token: RefreshCookie = None
) -> BrowserAccess:
    if not refresh_token:
        raise Problem(401, "no browser session: log in", "not_logged_in")
    try:
        pair = await rotate_refresh_token(session, refresh_token)
    except RefreshRefused:
        raise Problem(
            401, "the session is over: log in again", "invalid_refresh_token", {"Set-Cookie": _cookie_dropped()}
        ) from None
    await session.commit()
    return _answer(request, response, pair)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End the page's session and drop its cookie (done already when there is none)",
    responses=documented(403, 422),
)
async def log_out_from_a_page(
    response: Response, session: DatabaseSession, refresh_token: RefreshCookie = None
) -> None:
    if refresh_token:
        family_id = await session.scalar(
            select(RefreshToken.family_id).where(RefreshToken.token_hash == hash_secret(refresh_token))
        )
        if family_id is not None:
            await revoke_family(session, family_id)
            await session.commit()
    _forget_cookie(response)
