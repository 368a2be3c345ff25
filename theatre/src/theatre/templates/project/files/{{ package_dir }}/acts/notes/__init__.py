"""Act ``notes``: write a note, read it back; the worker counts its words.

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

        from .scenes import reading, writing

        # the prefix goes on each include, not on the router: only then may a scene serve the act's own path ("")
        value = APIRouter(tags=["notes"])
        value.include_router(reading.router, prefix="/notes")
        value.include_router(writing.router, prefix="/notes")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups find it without calling __getattr__
    return value
