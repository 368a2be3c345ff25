"""Act ``thread``: conversations with a title and participants, and each thread's event log.

Public face: ``router``; ``MyThread`` (the dependency that finds a thread I am in, or answers 404);
``record_event``, ``log_event``, ``announce``, ``events_after`` and ``channel`` (the thread's event log and its
live channel). Handed out on first use, so a worker importing ``chorus.acts.thread.tasks`` never loads the web.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import APIRouter

    from chorus.acts.thread.events import announce, channel, events_after, log_event, record_event
    from chorus.acts.thread.membership import Membership, MyThread

__all__ = [
    "Membership",
    "MyThread",
    "announce",
    "channel",
    "events_after",
    "log_event",
    "record_event",
    "router",
]

_EVENTS = ("announce", "channel", "events_after", "log_event", "record_event")
_MEMBERSHIP = ("Membership", "MyThread")


def _stage() -> APIRouter:
    from fastapi import APIRouter

    from chorus.acts.thread.scenes import participants, threads

    router = APIRouter(tags=["thread"])
    for scene in (threads, participants):
        router.include_router(scene.router, prefix="/threads")
    return router


def __getattr__(name: str) -> Any:
    if name == "router":
        globals()["router"] = router = _stage()
        return router
    if name in _EVENTS:
        from chorus.acts.thread import events

        return getattr(events, name)
    if name in _MEMBERSHIP:
        from chorus.acts.thread import membership

        return getattr(membership, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
