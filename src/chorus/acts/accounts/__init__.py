"""Act ``accounts``: my profile, other people's public profiles, and finding people to invite.

Public face: ``router``, handed out on first use so the worker never loads the web framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import APIRouter

__all__ = ["router"]


def _stage() -> APIRouter:
    from fastapi import APIRouter

    from chorus.acts.accounts.scenes import me, people

    router = APIRouter(tags=["accounts"])
    for scene in (me, people):  # `me` first: /accounts/me is not a profile id
        router.include_router(scene.router, prefix="/accounts")
    return router


def __getattr__(name: str) -> Any:
    if name == "router":
        globals()["router"] = router = _stage()
        return router
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
