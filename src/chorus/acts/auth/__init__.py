"""Act ``auth``: registration, email verification, login sessions and passwords.

Public face: ``router`` (every scene of the act); ``CurrentUser`` and ``CurrentSession`` (the dependencies that
guard authenticated scenes) and ``holder`` (their check, for scenes that load the account themselves);
``end_sessions`` (revoke a person's refresh tokens). Handed out on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus.acts.public_face import public_face

if TYPE_CHECKING:
    from fastapi import APIRouter

    from chorus.acts.auth.guard import CurrentSession, CurrentUser, holder
    from chorus.acts.auth.sessions import end_sessions

    router: APIRouter

__all__ = ["CurrentSession", "CurrentUser", "end_sessions", "holder", "router"]

__getattr__ = public_face(
    __name__,
    prefix="/auth",
    scenes=("registration", "login", "password"),
    names={"CurrentUser": "guard", "CurrentSession": "guard", "holder": "guard", "end_sessions": "sessions"},
)
