"""The one shape every error answer has."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    detail: str = Field(description="What went wrong, for a person to read.")
    code: str = Field(description="A stable machine-readable code, e.g. `email_taken`.")
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="For `validation_error`: each invalid field and why."
    )
