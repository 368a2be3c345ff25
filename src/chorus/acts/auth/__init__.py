"""Act ``auth``: registration, email verification, login sessions and passwords.

Public face for the API and other acts: ``router`` (every scene of the act), ``CurrentUser`` and
``CurrentSession`` (the dependencies that guard authenticated scenes). They are handed out on first use, so a
worker importing ``chorus.acts.auth.tasks`` never loads the web framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import APIRouter

    from chorus.acts.auth.guard import CurrentSession, CurrentUser

__all__ = ["CurrentSession", "CurrentUser", "router"]


def _stage() -> APIRouter:
    from fastapi import APIRouter

    from chorus.acts.auth.scenes import login, password, registration

    router = APIRouter(tags=["auth"])
    for scene in (registration, login, password):
        router.include_router(scene.router, prefix="/auth")
    return router


def __getattr__(name: str) -> Any:
    if name == "router":
        globals()["router"] = router = _stage()
        return router
    if name in ("CurrentUser", "CurrentSession"):
        from chorus.acts.auth import guard

        return getattr(guard, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
