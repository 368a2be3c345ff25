"""Payloads of the auth act: registration, mail tokens, token pairs and passwords."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from chorus.schema.fields import DisplayName, Email, LoginName, NewPassword, OpaqueToken, Password


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
