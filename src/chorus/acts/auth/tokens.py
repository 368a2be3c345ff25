"""The tokens auth issues: signed short-lived access tokens, and opaque secrets stored only as hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import jwt

from chorus.config import get_settings
from chorus.models.base import utcnow

ALGORITHM = "HS256"
ACCESS = "access"


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    session_version: int
    # When the token stops being accepted (Unix time), for a connection that outlives its request (a stream).
    expires_at: float = field(default=math.inf, compare=False)


class InvalidToken(Exception):
    """The token is malformed, forged, expired or of the wrong kind."""


def issue_access_token(claims: AccessClaims) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    settings = get_settings()
    lifetime = settings.access_token_minutes * 60
    now = utcnow()
    payload = {
        "sub": str(claims.user_id),
        "sid": str(claims.session_id),
        "ver": claims.session_version,
        "typ": ACCESS,
        "iat": now,
        "exp": now + timedelta(seconds=lifetime),
    }
    return jwt.encode(payload, settings.secret_key.get_secret_value(), algorithm=ALGORITHM), lifetime


def read_access_token(token: str) -> AccessClaims:
    try:
        payload = jwt.decode(
            token,
            get_settings().secret_key.get_secret_value(),
            algorithms=[ALGORITHM],
            options={"require": ["sub", "sid", "ver", "typ", "exp", "iat"]},
        )
        if payload["typ"] != ACCESS:
            raise InvalidToken("not an access token")
        user_id, session_id, version = uuid.UUID(payload["sub"]), uuid.UUID(payload["sid"]), int(payload["ver"])
        return AccessClaims(user_id, session_id, version, expires_at=float(payload["exp"]))
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise InvalidToken(str(error)) from error


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> bytes:
    """What the database stores of a secret: enough to recognise it, useless to present."""
    return hashlib.sha256(secret.encode()).digest()


def mail_secret(token_id: uuid.UUID, purpose: str) -> str:
    """The secret mailed for an email token, derived from its id so a redelivered task mails the same one."""
    key = get_settings().secret_key.get_secret_value().encode()
    mac = hmac.new(key, f"{purpose}:{token_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
