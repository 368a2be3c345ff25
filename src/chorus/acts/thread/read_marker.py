"""Each participant's read marker, which the thread act alone writes (a new message's numbers are taken with the
post itself: ``new_message``)."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from chorus.models import Participant


async def move_read_marker(session: AsyncSession, *, thread_id: uuid.UUID, user_id: uuid.UUID, seq: int) -> None:
    """Mark a participant's thread read up to message ``seq``; the marker only ever moves forward."""
    await session.execute(
        update(Participant)
        .where(Participant.thread_id == thread_id, Participant.user_id == user_id, Participant.read_seq < seq)
        .values(read_seq=seq)
        .execution_options(synchronize_session=False)
    )
