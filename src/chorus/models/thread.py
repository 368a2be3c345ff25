"""A conversation and the people in it, with the counters that keep unread counts and event ids cheap."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from chorus.models.base import Base, utcnow, uuid7


class Thread(Base):
    __tablename__ = "threads"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    title: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Sequence number of the newest message: messages are numbered 1, 2, 3... within their thread.
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # Sequence number of the newest event in the thread's log (the SSE event id).
    event_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_message_id: Mapped[uuid.UUID | None]


class Participant(Base):
    """Membership of one person in one thread, with how far they have read."""

    __tablename__ = "participants"
    __table_args__ = (Index("ix_participants_user_id_thread_id", "user_id", "thread_id"),)

    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Unread messages = thread.last_seq - read_seq: the marker only moves forward.
    read_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # Messages up to this number have been in a digest mailed to this participant.
    notified_seq: Mapped[int] = mapped_column(BigInteger, default=0)
