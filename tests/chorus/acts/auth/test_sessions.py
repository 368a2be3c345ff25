"""Logging in, rotating refresh tokens, logging out, and the access token's limits."""

from __future__ import annotations

from datetime import timedelta

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import select

from chorus.config import get_settings
from chorus.db import sync_engine
from chorus.models import User, utcnow
from tests.people import PASSWORD, Person, log_in


def _refresh(client: TestClient, refresh_token: str) -> tuple[int, dict[str, object]]:
    response = client.post("/auth/refresh", json={"refresh_token": refresh_token})
    return response.status_code, response.json()


def test_passwords_are_stored_as_argon2id_hashes(register: object) -> None:
    person: Person = register()  # type: ignore[operator]
    with sync_engine().connect() as connection:
        stored = connection.scalar(select(User.password_hash).where(User.id == person.id))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_login_answers_a_bearer_pair_whose_access_token_lives_15_minutes(client: TestClient, register: object) -> None:
    person: Person = register()  # type: ignore[operator]
    pair = log_in(client, person.email)
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 15 * 60
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 15 * 60


def test_a_wrong_password_or_unknown_account_is_401_with_the_same_answer(client: TestClient, register: object) -> None:
    person: Person = register()  # type: ignore[operator]
    wrong = client.post("/auth/token", data={"username": person.email, "password": "not the password"})
    unknown = client.post("/auth/token", data={"username": "nobody@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers["www-authenticate"] == "Bearer"


def test_an_expired_access_token_is_refused(client: TestClient, register: object) -> None:
    person: Person = register()  # type: ignore[operator]
    claims = jwt.decode(person.access_token, options={"verify_signature": False})
    past = utcnow() - timedelta(minutes=16)
    claims |= {"iat": past, "exp": past + timedelta(minutes=15)}
    expired = jwt.encode(claims, get_settings().secret_key.get_secret_value(), algorithm="HS256")
    response = client.get("/accounts/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_forged_access_token_is_refused(client: TestClient, register: object) -> None:
    person: Person = register()  # type: ignore[operator]
    claims = jwt.decode(person.access_token, options={"verify_signature": False})
    forged = jwt.encode(claims, "a key that is not the server's key at all", algorithm="HS256")
    unsigned = jwt.encode(claims, "", algorithm="none")
    for token in (forged, unsigned):
        assert client.get("/accounts/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_refresh_rotates_and_the_spent_token_no_longer_works(client: TestClient, register: object) -> None:
    person: Person = register()  # type: ignore[operator]
    status, pair = _refresh(client, person.refresh_token)
    assert status == 200
    assert pair["refresh_token"] != person.refresh_token
    me = client.get("/accounts/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200


def test_presenting_a_spent_refresh_token_revokes_its_whole_family(client: TestClient, register: object) -> None:
    person: Person = register()  # type: ignore[operator]
    other_session = log_in(client, person.email)
    _, rotated = _refresh(client, person.refresh_token)

    replay_status, replay = _refresh(client, person.refresh_token)
    assert replay_status == 401
    assert replay["code"] == "invalid_refresh_token"
    # The thief's replay also ends the legitimate holder's chain...
    assert _refresh(client, str(rotated["refresh_token"]))[0] == 401
    # ...but not the account's other sessions.
    assert _refresh(client, other_session["refresh_token"])[0] == 200


def test_logout_revokes_the_session_family(client: TestClient, register: object) -> None:
    person: Person = register()  # type: ignore[operator]
    _, rotated = _refresh(client, person.refresh_token)
    assert client.post("/auth/logout", json={"refresh_token": rotated["refresh_token"]}).status_code == 204
    assert _refresh(client, str(rotated["refresh_token"]))[0] == 401
    unknown = client.post("/auth/logout", json={"refresh_token": "y" * 43})
    assert unknown.status_code == 401


def test_repeated_failures_for_one_account_are_throttled_with_retry_after(client: TestClient, register: object) -> None:
    person: Person = register()  # type: ignore[operator]
    limit = get_settings().login_failures_per_account
    for _ in range(limit):
        response = client.post("/auth/token", data={"username": person.email, "password": "wrong password!"})
        assert response.status_code == 401
    throttled = client.post("/auth/token", data={"username": person.email, "password": PASSWORD})
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "too_many_attempts"
    retry_after = int(throttled.headers["retry-after"])
    assert 0 < retry_after <= get_settings().login_throttle_minutes * 60


def test_repeated_failures_from_one_address_are_throttled_across_accounts(client: TestClient) -> None:
    limit = get_settings().login_failures_per_address
    for attempt in range(limit):
        response = client.post("/auth/token", data={"username": f"guess{attempt}@example.com", "password": "nope"})
        assert response.status_code == 401
    throttled = client.post("/auth/token", data={"username": "fresh@example.com", "password": "nope"})
    assert throttled.status_code == 429
    assert "retry-after" in throttled.headers


def test_a_successful_login_clears_the_account_s_failures(client: TestClient, register: object) -> None:
    person: Person = register()  # type: ignore[operator]
    limit = get_settings().login_failures_per_account
    for _ in range(limit - 1):
        client.post("/auth/token", data={"username": person.email, "password": "wrong password!"})
    log_in(client, person.email)
    for _ in range(limit - 1):
        client.post("/auth/token", data={"username": person.email, "password": "wrong password!"})
    assert client.post("/auth/token", data={"username": person.email, "password": PASSWORD}).status_code == 200
