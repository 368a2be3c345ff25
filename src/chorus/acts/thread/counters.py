"""The thread row's counters, which the thread act alone writes: numbering a new message and its event, and each
participant's read marker."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from chorus.models import Participant, Thread


async def number_new_message(
    session: AsyncSession, *, thread_id: uuid.UUID, message_id: uuid.UUID, at: datetime
) -> tuple[int, int]:
    """(message number, event number) for a message posted now, and the thread's activity moved to it.

    One statement: the row lock it takes orders concurrent posts, so numbers follow commit order.
    """
    seq, event_seq = (
        await session.execute(
            update(Thread)
            .where(Thread.id == thread_id)
            .values(
                last_seq=Thread.last_seq + 1,
                event_seq=Thread.event_seq + 1,
                last_activity_at=at,
                last_message_id=message_id,
            )
            .returning(Thread.last_seq, Thread.event_seq)
            .execution_options(synchronize_session=False)
        )
    ).one()
    return seq, event_seq


async def move_read_marker(session: AsyncSession, *, thread_id: uuid.UUID, user_id: uuid.UUID, seq: int) -> None:
    """Mark a participant's thread read up to message ``seq``; the marker only ever moves forward."""
    await session.execute(
        update(Participant)
        .where(Participant.thread_id == thread_id, Participant.user_id == user_id, Participant.read_seq < seq)
        .values(read_seq=seq)
        .execution_options(synchronize_session=False)
    )
