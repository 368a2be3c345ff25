"""A message in a thread; deleting one leaves a tombstone so the thread's numbering and replies stay intact."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chorus.models.base import Base, utcnow, uuid7


class Message(Base):
    __tablename__ = "messages"
    # Keyset pagination walks (thread_id, seq): a page deep in a long thread costs what the newest page costs.
    __table_args__ = (UniqueConstraint("thread_id", "seq", name="uq_messages_thread_id_seq"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
