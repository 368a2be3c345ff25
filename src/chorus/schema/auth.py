"""Payloads of the auth act: registration, mail tokens, token pairs and passwords."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from chorus.schema.fields import DisplayName, Email, LoginName, OpaqueToken, Password
from chorus.schema.fields import _text as _no_control_characters

PASSWORD_MIN_LENGTH = 12  # OWASP ASVS 2.1.1


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of zxcvbn's list (leaked password dumps), lower-cased, loaded once."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(password.lower() for password in FREQUENCY_LISTS["passwords"])


def _not_common(value: str) -> str:
    """A password from a list of common ones is guessed first, whatever its length (ASVS 2.1.7)."""
    folded = value.lower()
    if folded in _common_passwords() or folded.replace(" ", "") in _common_passwords():
        raise ValueError("is one of the most common passwords; choose another")
    return value


NewPassword = Annotated[
    str,
    Field(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=128,
        description=f"At least {PASSWORD_MIN_LENGTH} characters, and not one of the most common passwords.",
        examples=["correct horse battery staple"],
    ),
    AfterValidator(_no_control_characters),
    AfterValidator(_not_common),
]


class Request(BaseModel):
    """Requests reject unknown fields, so a misspelt field is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Registration(Request):
    email: Email
    password: NewPassword
    display_name: DisplayName


class MailedToken(Request):
    token: OpaqueToken


class RefreshTokenIn(Request):
    refresh_token: OpaqueToken


class EmailAddress(Request):
    email: Email


class PasswordReset(Request):
    token: OpaqueToken
    new_password: NewPassword


class PasswordChange(Request):
    current_password: Password
    new_password: NewPassword


class PasswordConfirmation(Request):
    """The account's password, asked again before a step that cannot be undone."""

    password: Password


class PasswordLogin(BaseModel):
    """The OAuth2 password grant's form: the email address goes in ``username``."""

    username: Annotated[LoginName, Field(description="The account's email address.")]
    password: Password
    grant_type: Annotated[str | None, Field(pattern="^password$", description="OAuth2: `password` if sent.")] = None
    scope: Annotated[str, Field(max_length=1000)] = ""


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str


class Accepted(BaseModel):
    detail: str


class SessionInfo(BaseModel):
    """One of my login sessions: when it began and was last refreshed, and the client that began it."""

    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime = Field(description="The session's absolute end: refreshing never carries it further.")
    user_agent: str | None
    address: str | None
    current: bool = Field(description="True for the session of the access token that asked.")


class SessionList(BaseModel):
    items: list[SessionInfo]
