"""Act ``thread``: conversations with a title and participants, and each thread's event log.

Public face: ``router``; ``MyThread`` (the dependency that finds a thread I am in, or answers 404);
``record_event``, ``log_event``, ``announce``, ``events_after`` and ``channel`` (the thread's event log and its
live channel). Handed out on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus.acts.public_face import public_face

if TYPE_CHECKING:
    from fastapi import APIRouter

    from chorus.acts.thread.events import announce, channel, events_after, log_event, record_event
    from chorus.acts.thread.membership import Membership, MyThread

    router: APIRouter

__all__ = ["Membership", "MyThread", "announce", "channel", "events_after", "log_event", "record_event", "router"]

_EVENT_LOG = ("announce", "channel", "events_after", "log_event", "record_event")

__getattr__ = public_face(
    __name__,
    prefix="/threads",
    scenes=("threads", "participants"),
    names={"Membership": "membership", "MyThread": "membership"} | dict.fromkeys(_EVENT_LOG, "events"),
)
