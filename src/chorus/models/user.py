"""A person with an account: credentials, profile, and the state auth needs."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from chorus.models.base import Base, utcnow, uuid7


class User(Base):
    __tablename__ = "users"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80))
    bio: Mapped[str | None] = mapped_column(Text)
    email_verified_at: Mapped[datetime | None]
    # The credential version: bumped when every outstanding access token must stop working (password change or
    # reset, deletion); each access token carries the version it was issued under.
    session_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None]

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None


# Case-insensitive prefix lookup of people to invite.
Index("ix_users_display_name_lower", func.lower(User.display_name))
