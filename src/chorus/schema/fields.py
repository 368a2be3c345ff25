"""Field types shared by several payloads, so each rule is written once."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StringConstraints


def _printable(value: str) -> str:
    if any(not ch.isprintable() for ch in value):
        raise ValueError("must not contain control characters")
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
]
# Any length up to the cap: a password checked against a stored hash needs no policy, only a bound.
Password = Annotated[str, Field(min_length=1, max_length=128)]
DisplayName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
    AfterValidator(_printable),
    Field(examples=["Ada Lovelace"]),
]
Bio = Annotated[str, StringConstraints(max_length=500), Field(examples=["Analyst of engines."])]
OpaqueToken = Annotated[str, Field(min_length=16, max_length=200)]
