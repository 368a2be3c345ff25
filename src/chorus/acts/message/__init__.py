"""Act ``message``: posting, reading and editing messages, marking them read, and digests by mail.

Public face: ``router``, built on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import APIRouter

    router: APIRouter

__all__ = ["router"]


def __getattr__(name: str) -> Any:
    """The act's public face, built on first use, so a worker importing the act's tasks never loads a scene."""
    value: Any
    if name == "router":
        from fastapi import APIRouter

        from .scenes import posting, reading

        # the prefix goes on each include, not on the router: only then may a scene serve the act's own path ("")
        value = APIRouter(tags=["message"])
        value.include_router(posting.router, prefix="/threads/{thread_id}")
        value.include_router(reading.router, prefix="/threads/{thread_id}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups find it without calling __getattr__
    return value
