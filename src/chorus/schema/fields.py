"""Field types shared by several payloads, so each rule is written once."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StringConstraints


def _single_line(value: str) -> str:
    """No control characters (tabs and line breaks included) and no lone surrogates, which no database stores."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _text(value: str) -> str:
    """What a person types into a message: like a single line, but line breaks and tabs are welcome."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\r\t" for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _lowercase(value: str) -> str:
    return value.lower()


Email = Annotated[EmailStr, Field(max_length=254, examples=["ada@example.com"]), AfterValidator(_lowercase)]
NewPassword = Annotated[
    str,
    Field(
        min_length=10,
        max_length=128,
        description="At least 10 characters.",
        examples=["correct horse battery"],
    ),
    AfterValidator(_text),
]
# Any length up to the cap: a password checked against a stored hash needs no policy, only a bound.
Password = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_text)]
DisplayName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
    AfterValidator(_single_line),
    Field(examples=["Ada Lovelace"]),
]
Bio = Annotated[str, StringConstraints(max_length=500), AfterValidator(_text), Field(examples=["Analyst of engines."])]
SearchText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(_single_line)
]
LoginName = Annotated[str, Field(min_length=1, max_length=254), AfterValidator(_single_line)]
OpaqueToken = Annotated[str, Field(min_length=16, max_length=200, pattern=r"^[A-Za-z0-9_\-]+$")]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_single_line),
    Field(examples=["Friday lunch"]),
]
MessageBody = Annotated[
    str,
    Field(min_length=1, max_length=10_000, examples=["See you at noon."]),
    AfterValidator(_text),
    AfterValidator(_not_blank),
]
