"""The one shape of every error the API answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    detail: str = Field(description="What went wrong, for people.")
    code: str = Field(description="A stable identifier, for programs: e.g. validation_error, note_not_found.")
    errors: list[dict[str, Any]] | None = Field(default=None, description="Each invalid field (422 only).")
