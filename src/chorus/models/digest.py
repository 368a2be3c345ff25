"""A mail digest of unread messages, recorded so a redelivered task never mails the same digest twice.

Its state: claimed (``claimed_at``: a run is sending it; the claim is committed before the mail goes out, so no row
stays locked while the mail server is slow), then sent or failed. A claim older than a task may run counts as
abandoned (its worker died mid-send), and a later run takes it over."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from chorus.models.base import Base, utcnow


class Digest(Base):
    __tablename__ = "digests"

    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # The digest covers the recipient's unread messages up to and including this one.
    upto_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # A digest that cannot be built from its data (not a passing outage) fails once, with the reason, and is skipped.
    failed_at: Mapped[datetime | None]
    failure: Mapped[str | None] = mapped_column(String(500))
