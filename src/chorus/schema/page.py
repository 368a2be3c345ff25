"""Cursor pagination: every list answers ``{"items": [...], "next_cursor": ...}``; the cursor is opaque."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime
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


MAX_SEQ = 2**63 - 1  # sequence numbers are BIGINT


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor("the cursor is not one this API handed out") from None
    if not isinstance(parts, list) or len(parts) != arity:
        raise InvalidCursor("the cursor is not one this API handed out")
    return parts


def decode_seq_cursor(cursor: str) -> int:
    """A cursor holding one sequence number (a message page's ``before``)."""
    (seq,) = decode_cursor(cursor, 1)
    if type(seq) is not int or not 0 < seq <= MAX_SEQ:
        raise InvalidCursor("the cursor is not one this API handed out")
    return seq


def decode_moment_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """A cursor holding a timezone-aware moment and an id (my threads' ``cursor``)."""
    moment, identifier = decode_cursor(cursor, 2)
    if not isinstance(moment, str) or not isinstance(identifier, str):
        raise InvalidCursor("the cursor is not one this API handed out")
    try:
        when = datetime.fromisoformat(moment)
        if when.tzinfo is None:
            raise InvalidCursor("the cursor is not one this API handed out")
        return when.astimezone(UTC), uuid.UUID(identifier)
    except (ValueError, OverflowError):
        raise InvalidCursor("the cursor is not one this API handed out") from None
