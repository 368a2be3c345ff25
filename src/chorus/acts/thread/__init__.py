"""Act ``thread``: conversations with a title and participants, their counters and read markers, each thread's
event log, and its live stream of events.

Public face: ``router``; ``MyThread`` (the dependency that finds a thread I am in, or answers 404); and what other
acts need to change a thread's rows without writing them: ``number_new_message``, ``move_read_marker``,
``log_event``, ``publish_event`` and ``commit_and_announce``. Handed out on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus.acts.public_face import public_face

if TYPE_CHECKING:
    from fastapi import APIRouter

    from chorus.acts.thread.counters import move_read_marker, number_new_message
    from chorus.acts.thread.event_log import commit_and_announce, log_event, publish_event
    from chorus.acts.thread.membership import Membership, MyThread

    router: APIRouter

__all__ = [
    "Membership",
    "MyThread",
    "commit_and_announce",
    "log_event",
    "move_read_marker",
    "number_new_message",
    "publish_event",
    "router",
]

__getattr__ = public_face(
    __name__,
    prefix="/threads",
    scenes=("threads", "participants", "stream"),
    names={"Membership": "membership", "MyThread": "membership"}
    | dict.fromkeys(("number_new_message", "move_read_marker"), "counters")
    | dict.fromkeys(("log_event", "publish_event", "commit_and_announce"), "event_log"),
)
