"""Payloads of the auth act: registration, mail tokens, token pairs and passwords."""

from __future__ import annotations

import uuid
from datetime import datetime
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


class BrowserAccess(BaseModel):
    """What a page is given at login and refresh: the access token only; its refresh token is an HttpOnly cookie."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
