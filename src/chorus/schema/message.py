"""Payloads of the message act: messages, read markers, and the events a live subscriber receives."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from chorus.schema.fields import MessageBody


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: MessageBody


class MessageEdit(MessageCreate):
    pass


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    thread_id: uuid.UUID
    author_id: uuid.UUID | None
    body: str | None
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None


class ReadMarker(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: uuid.UUID


class ReadState(BaseModel):
    last_read_message_id: uuid.UUID | None
    unread_count: int
