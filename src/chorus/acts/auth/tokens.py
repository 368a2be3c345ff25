"""The tokens auth issues: signed short-lived access tokens, and opaque secrets stored only as hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import timedelta

import jwt

from chorus.config import get_settings
from chorus.models.base import utcnow

ALGORITHM = "HS256"
ACCESS = "access"
# Verified claims are kept per token string: a token's claims and expiry never change once signed, so re-verifying
# it each request buys nothing. An entry lives until the token expires or for a minute, whichever is first (the
# minute only bounds how long a token nobody presents any more holds its slot); the oldest go first past the size,
# so a flood of fresh tokens cannot grow the process (about 1 KiB an entry). Only tokens that verified are kept.
VERIFIED_CACHE_SIZE = 4096
VERIFIED_CACHE_SECONDS = 60.0


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


@dataclass(frozen=True)
class _Verified:
    claims: AccessClaims
    until: float  # Unix time, never past the token's own expiry
    secret: str  # the key it verified under: a token is not believed across a change of key


_verified: OrderedDict[str, _Verified] = OrderedDict()


def read_access_token(token: str) -> AccessClaims:
    """The claims of a valid access token; a token verified in the last minute is answered from memory, never one
    past its expiry."""
    secret = get_settings().secret_key.get_secret_value()
    now = time.time()
    seen = _verified.get(token)
    if seen is not None:
        if now < seen.until and seen.secret == secret:
            _verified.move_to_end(token)
            return seen.claims
        del _verified[token]
    claims = _verify(token, secret)
    _verified[token] = _Verified(claims, min(claims.expires_at, now + VERIFIED_CACHE_SECONDS), secret)
    if len(_verified) > VERIFIED_CACHE_SIZE:
        _verified.popitem(last=False)
    return claims


def _verify(token: str, secret: str) -> AccessClaims:
    try:
        payload = jwt.decode(
            token,
            secret,
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
