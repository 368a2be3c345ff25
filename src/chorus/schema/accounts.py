"""Payloads of the accounts act: my account, other people's public profiles, and lookup."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, field_validator

from chorus.schema.fields import Bio, DisplayName


class PublicProfile(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    display_name: str
    bio: str | None


class Account(PublicProfile):
    email: str
    email_verified: bool
    created_at: datetime


class AccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = None
    bio: Bio | None = None

    @field_validator("display_name")
    @classmethod
    def _display_name_not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("cannot be null")
        return value


class ProfileList(BaseModel):
    items: list[PublicProfile]
