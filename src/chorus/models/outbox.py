"""Tasks a scene or a task caused, stored in the same transaction as their data, until a worker has done them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chorus.models.base import Base, utcnow, uuid7

# pending: waits for the relay; published: on the broker (published again if not done by due_at);
# done: its effect happened; dead: failed for good (bad data, or out of attempts), listed by `chorus dead-letters`.
OUTBOX_STATES = ("pending", "published", "done", "dead")


class OutboxTask(Base):
    __tablename__ = "outbox"

    # Also the Celery task id, so every delivery of one task carries the same id and its effect happens once.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    task: Mapped[str] = mapped_column(String(200))
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    # When the relay next publishes it: at once, after a retry's backoff, or again if a published task went missing.
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Runs that failed on a passing outage; the next run is attempt ``attempts + 1``.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_outbox_state_due_at", "state", "due_at"),)
