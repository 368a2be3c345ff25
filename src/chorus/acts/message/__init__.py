"""Act ``message``: posting, reading and editing messages, read markers, live events, and digests by mail.

Public face: ``router``, handed out on first use so the worker never loads the web framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import APIRouter

__all__ = ["router"]


def _stage() -> APIRouter:
    from fastapi import APIRouter

    from chorus.acts.message.scenes import live, posting, reading

    router = APIRouter(tags=["message"])
    for scene in (posting, reading, live):
        router.include_router(scene.router, prefix="/threads/{thread_id}")
    return router


def __getattr__(name: str) -> Any:
    if name == "router":
        globals()["router"] = router = _stage()
        return router
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
