"""Act ``auth``: registration, email verification, login sessions and passwords.

Public face: ``router`` (every scene of the act); ``CurrentUser`` and ``CurrentSession`` (the dependencies that
guard authenticated scenes) and ``holder`` (their check, for scenes that load the account themselves) with
``stale_token`` (its 401, for scenes that check the account's columns in their own query);
``access_is_live`` (the same session check, for a long-lived connection to repeat); ``end_sessions`` (end a
person's sessions); ``password_matches`` (confirm a person's password before a grave step). Built on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import APIRouter

    from chorus.acts.auth.guard import CurrentSession, CurrentUser, access_is_live, holder, stale_token
    from chorus.acts.auth.password_hashing import password_matches
    from chorus.acts.auth.sessions import end_sessions

    router: APIRouter

__all__ = [
    "CurrentSession",
    "CurrentUser",
    "access_is_live",
    "end_sessions",
    "holder",
    "password_matches",
    "router",
    "stale_token",
]


def __getattr__(name: str) -> Any:
    """The act's public face, built on first use, so a worker importing the act's tasks never loads a scene."""
    value: Any
    if name == "router":
        from fastapi import APIRouter

        from .scenes import browser, login, password, registration, sessions

        # the prefix goes on each include, not on the router: only then may a scene serve the act's own path ("")
        value = APIRouter(tags=["auth"])
        value.include_router(registration.router, prefix="/auth")
        value.include_router(login.router, prefix="/auth")
        value.include_router(password.router, prefix="/auth")
        value.include_router(sessions.router, prefix="/auth")
        value.include_router(browser.router, prefix="/auth")
    elif name in ("CurrentSession", "CurrentUser", "access_is_live", "holder", "stale_token"):
        from . import guard

        value = getattr(guard, name)
    elif name == "end_sessions":
        from .sessions import end_sessions

        value = end_sessions
    elif name == "password_matches":
        from .password_hashing import password_matches

        value = password_matches
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups find it without calling __getattr__
    return value
