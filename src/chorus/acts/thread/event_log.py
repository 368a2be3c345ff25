"""A thread's event log: what happened, numbered per thread, stored, then announced to live subscribers.

Numbers come from the thread row's counter, so events of one thread are numbered in commit order and a
subscriber resuming after event N misses nothing.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chorus.adapters.hub import get_hub
from chorus.models import Thread, ThreadEvent

logger = logging.getLogger(__name__)

# Clocks of two API processes may disagree a little: an edit's event can carry an earlier time than the message.
CLOCK_SKEW = timedelta(minutes=5)

EventType = Literal["message.created", "message.edited", "message.deleted", "participant.added", "participant.removed"]


def channel(thread_id: uuid.UUID) -> str:
    return f"thread:{thread_id}"


async def record_event(session: AsyncSession, *, thread_id: uuid.UUID, type_: EventType, data: Any) -> ThreadEvent:
    """Number an event from the thread's counter and add it to the log (committed by the caller)."""
    seq = await session.scalar(
        update(Thread).where(Thread.id == thread_id).values(event_seq=Thread.event_seq + 1).returning(Thread.event_seq)
    )
    assert seq is not None, "the thread exists: the caller checked membership"
    event = ThreadEvent(thread_id=thread_id, seq=seq, type=type_, data=data)
    session.add(event)
    return event


async def commit_and_announce(session: AsyncSession, *events: ThreadEvent) -> None:
    """Commit what the scene wrote with its events, then tell live subscribers: never announce what may roll back."""
    await session.commit()
    await announce(*events)


async def publish_event(session: AsyncSession, *, thread_id: uuid.UUID, type_: EventType, data: Any) -> ThreadEvent:
    """Record an event, commit, announce: the end of every scene that changes a thread."""
    event = await record_event(session, thread_id=thread_id, type_=type_, data=data)
    await commit_and_announce(session, event)
    return event


async def scrub_message_text(
    session: AsyncSession, *, thread_id: uuid.UUID, message_id: uuid.UUID, since: datetime
) -> int:
    """Blank the body in the logged events of a message being edited or deleted; how many events were scrubbed.

    Resuming with ``Last-Event-ID`` replays the log, so a deleted body or an edit's earlier text would otherwise
    come back to anyone for as long as the log keeps it. The events stay (their numbers keep resuming gapless);
    only the text goes. Call it before logging the edit's own event. ``since`` is when the message was posted,
    which bounds the scan to the events logged after it.
    """
    events = await session.scalars(
        select(ThreadEvent).where(
            ThreadEvent.thread_id == thread_id,
            ThreadEvent.created_at >= since - CLOCK_SKEW,
            ThreadEvent.type.in_(("message.created", "message.edited")),
            ThreadEvent.data["id"].as_string() == str(message_id),
        )
    )
    scrubbed = 0
    for event in events:
        if event.data.get("body") is not None:
            event.data = {**event.data, "body": None}  # a new dict: the JSON column tracks assignment, not mutation
            scrubbed += 1
    return scrubbed


def wire_format(event: ThreadEvent) -> str:
    return json.dumps({"seq": event.seq, "type": event.type, "data": event.data}, separators=(",", ":"))


async def announce(*events: ThreadEvent) -> None:
    """Publish committed events to live subscribers on every API process, without waiting for Redis (the hub
    queues them for its publisher).

    A failed publish is logged, not raised: the event is committed to the log, and a subscriber that sees the
    next event's number jump, or whose stream the hub ends, fetches what it missed from there.
    """
    hub = get_hub()
    for event in events:
        try:
            await hub.publish(channel(event.thread_id), wire_format(event))
        except Exception:
            logger.exception("could not publish event %s of thread %s", event.seq, event.thread_id)


async def events_after(session: AsyncSession, *, thread_id: uuid.UUID, after_seq: int, limit: int) -> list[ThreadEvent]:
    rows = await session.scalars(
        select(ThreadEvent)
        .where(ThreadEvent.thread_id == thread_id, ThreadEvent.seq > after_seq)
        .order_by(ThreadEvent.seq)
        .limit(limit)
    )
    return list(rows)
