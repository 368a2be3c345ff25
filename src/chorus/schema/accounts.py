"""Payloads of the accounts act: my account, other people's public profiles, and lookup."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, model_validator

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

    @model_validator(mode="after")
    def _display_name_not_null(self) -> AccountUpdate:
        if "display_name" in self.model_fields_set and self.display_name is None:
            raise ValueError("display_name cannot be null")
        return self


class ProfileList(BaseModel):
    items: list[PublicProfile]
