"""Verified access tokens are remembered briefly, never past their expiry, in bounded memory."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from chorus.acts.auth import tokens
from chorus.acts.auth.tokens import AccessClaims, InvalidToken, issue_access_token, read_access_token
from chorus.config import get_settings


def _token(expires_in: float) -> str:
    now = datetime.now(UTC)
    payload = {
        "sub": str(uuid.uuid4()),
        "sid": str(uuid.uuid4()),
        "ver": 1,
        "typ": "access",
        "iat": now,
        "exp": now + timedelta(seconds=expires_in),
    }
    return jwt.encode(payload, get_settings().secret_key.get_secret_value(), algorithm="HS256")


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens actually decoded (a cache hit decodes nothing)."""
    seen: list[str] = []
    decode = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(tokens.jwt, "decode", counting)
    tokens._verified.clear()
    return seen


def test_a_token_is_decoded_once_while_it_is_remembered(decodes: list[str]) -> None:
    token, _ = issue_access_token(AccessClaims(uuid.uuid4(), uuid.uuid4(), 3))
    assert read_access_token(token) == read_access_token(token) == read_access_token(token)
    assert decodes == [token]


def test_an_expired_token_is_never_answered_from_memory(decodes: list[str]) -> None:
    token = _token(expires_in=1)  # exp is whole seconds: it ends within the next second
    claims = read_access_token(token)
    assert tokens._verified[token].until <= claims.expires_at
    time.sleep(max(0.0, claims.expires_at - time.time()) + 0.05)
    with pytest.raises(InvalidToken):
        read_access_token(token)
    assert token not in tokens._verified


def test_a_token_is_checked_again_after_the_cache_window(decodes: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    token = _token(expires_in=600)
    read_access_token(token)
    later = time.time() + tokens.VERIFIED_CACHE_SECONDS + 1
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    read_access_token(token)
    assert decodes == [token, token]


def test_a_forged_token_is_not_remembered(decodes: list[str]) -> None:
    forged = jwt.encode({"sub": str(uuid.uuid4())}, "not the key, but long enough to sign with", algorithm="HS256")
    for _ in range(2):
        with pytest.raises(InvalidToken):
            read_access_token(forged)
    assert decodes == [forged, forged]
    assert not tokens._verified


def test_memory_is_bounded_oldest_first(decodes: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "VERIFIED_CACHE_SIZE", 3)
    issued = [_token(expires_in=600) for _ in range(5)]
    for token in issued:
        read_access_token(token)
    assert list(tokens._verified) == issued[2:]
