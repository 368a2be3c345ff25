"""Finding one message of a thread, for the scenes that act on a single message (404 if it is not there)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chorus.models import Message
from chorus.web import Problem


async def message_in_thread(session: AsyncSession, thread_id: uuid.UUID, message_id: uuid.UUID) -> Message:
    message = await session.scalar(select(Message).where(Message.id == message_id, Message.thread_id == thread_id))
    if message is None:
        raise Problem(404, "no such message in this thread", "message_not_found")
    return message
