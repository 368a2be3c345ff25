"""Act ``thread``: conversations with their participants, counters and read markers, event log and live stream.

Public face: ``router``; ``MyThread`` (the dependency that finds a thread I am in, or answers 404), ``my_thread``
(its check, for a scene that needs it on some paths only) and ``read_if_member`` (the same check folded into a
read-only statement of another act's, one round trip); and what other acts need to change a thread's rows without
writing them: ``post_new_message`` (a new message's numbers, event, read marker and the thread's activity in one
statement, the membership check folded in; the message act hands in its INSERT), ``move_read_marker``,
``publish_event``, ``commit_and_announce`` and ``scrub_message_text`` (an edited or deleted message's earlier text
out of the event log); and for posts that take an ``Idempotency-Key`` (the keys are the thread act's table), the
header ``IdempotencyKeyHeader``, ``REPLAYABLE`` (its OpenAPI answer) and ``replay_or_take_key``. Built on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import APIRouter

    from chorus.acts.thread.event_log import commit_and_announce, publish_event, scrub_message_text
    from chorus.acts.thread.membership import MemberRead, Membership, MyThread, my_thread, read_if_member
    from chorus.acts.thread.new_message import post_new_message
    from chorus.acts.thread.read_marker import move_read_marker
    from chorus.acts.thread.replay import REPLAYABLE, IdempotencyKeyHeader, replay_or_take_key

    router: APIRouter

__all__ = [
    "REPLAYABLE",
    "IdempotencyKeyHeader",
    "MemberRead",
    "Membership",
    "MyThread",
    "commit_and_announce",
    "move_read_marker",
    "my_thread",
    "post_new_message",
    "publish_event",
    "read_if_member",
    "replay_or_take_key",
    "router",
    "scrub_message_text",
]


def __getattr__(name: str) -> Any:
    """The act's public face, built on first use, so a worker importing the act's tasks never loads a scene."""
    value: Any
    if name == "router":
        from fastapi import APIRouter

        from .scenes import participants, stream, threads

        # the prefix goes on each include, not on the router: only then may a scene serve the act's own path ("")
        value = APIRouter(tags=["thread"])
        value.include_router(threads.router, prefix="/threads")
        value.include_router(participants.router, prefix="/threads")
        value.include_router(stream.router, prefix="/threads")
    elif name in ("MemberRead", "Membership", "MyThread", "my_thread", "read_if_member"):
        from . import membership

        value = getattr(membership, name)
    elif name == "move_read_marker":
        from .read_marker import move_read_marker

        value = move_read_marker
    elif name == "post_new_message":
        from .new_message import post_new_message

        value = post_new_message
    elif name in ("commit_and_announce", "publish_event", "scrub_message_text"):
        from . import event_log

        value = getattr(event_log, name)
    elif name in ("IdempotencyKeyHeader", "REPLAYABLE", "replay_or_take_key"):
        from . import replay

        value = getattr(replay, name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups find it without calling __getattr__
    return value
