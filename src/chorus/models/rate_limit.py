"""Rate-limit counters, when the database is the store (no CHORUS_REDIS_URL): one fixed window per key."""

from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from chorus.models.base import Base


class RateLimitCounter(Base):
    """Hits counted for ``key`` in the window that ends at ``expires_at`` (seconds since the epoch, so the same
    arithmetic works on SQLite and PostgreSQL); a hit after it starts a new window."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
