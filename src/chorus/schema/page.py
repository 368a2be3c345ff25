"""Cursor pagination: every list answers ``{"items": [...], "next_cursor": ...}``; the cursor is opaque."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next_cursor: str | None = Field(description="Pass back to get the next page; null on the last page.")


class InvalidCursor(ValueError):
    """The cursor was not made by this API (or was altered)."""


def encode_cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts, separators=(",", ":")).encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor("the cursor is not one this API handed out") from None
    if not isinstance(parts, list) or len(parts) != arity:
        raise InvalidCursor("the cursor is not one this API handed out")
    return parts
