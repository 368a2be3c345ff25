"""Payloads of the thread act: threads, their participants, and the list of my threads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from chorus.schema.fields import Title


class ThreadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    participant_ids: Annotated[list[uuid.UUID], Field(max_length=100, description="Besides me; up to 100.")] = []


class ThreadRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title


class ParticipantAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID


class ParticipantOut(BaseModel):
    user_id: uuid.UUID
    display_name: str
    joined_at: datetime
    is_owner: bool


class MessagePreview(BaseModel):
    id: uuid.UUID
    author_id: uuid.UUID | None
    body: str | None = Field(description="The start of the message; null if it was deleted.")
    created_at: datetime


class ThreadSummary(BaseModel):
    id: uuid.UUID
    title: str
    owner_id: uuid.UUID | None
    last_activity_at: datetime
    unread_count: int
    last_message: MessagePreview | None


class ThreadDetail(BaseModel):
    id: uuid.UUID
    title: str
    owner_id: uuid.UUID | None
    created_at: datetime
    last_activity_at: datetime
    unread_count: int
    participants: list[ParticipantOut]
