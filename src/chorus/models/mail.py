"""Mail handed to the transport, by key: a redelivered task finds its mail sent and does not send it again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from chorus.models.base import Base, utcnow


class MailDelivery(Base):
    __tablename__ = "mail_deliveries"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    # Written before the first attempt and kept for every later one, so a mail sent twice (a 250 lost in transit)
    # reaches the reader's client as one message.
    message_id: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
