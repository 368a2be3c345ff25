"""Sessions that really end: every access token is checked against its session and its account's credential
version, the session list, the absolute lifetime, and the headers and mails around tokens."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from chorus.acts import auth
from chorus.acts.auth import sessions as auth_sessions
from chorus.acts.auth.tokens import read_access_token
from chorus.config import get_settings
from chorus.db import sync_engine
from chorus.models import LoginSession, RefreshToken, utcnow
from tests.people import Mailbox, Person, log_in

NEW_PASSWORD = "a brand new passphrase"


def _me(client: TestClient, access_token: str) -> int:
    return client.get("/accounts/me", headers={"Authorization": f"Bearer {access_token}"}).status_code


def _refresh(client: TestClient, refresh_token: str) -> Any:
    return client.post("/auth/refresh", json={"refresh_token": refresh_token})


def _sid(access_token: str) -> uuid.UUID:
    return uuid.UUID(jwt.decode(access_token, options={"verify_signature": False})["sid"])


@pytest.fixture
def bound(monkeypatch: pytest.MonkeyPatch) -> float:
    """A short staleness bound, so a test can wait it out."""
    seconds = 0.5
    settings = get_settings().model_copy(update={"session_check_seconds": seconds})
    monkeypatch.setattr(auth_sessions, "get_settings", lambda: settings)
    return seconds


def test_an_access_token_stops_working_at_logout(client: TestClient, register: Any) -> None:
    person: Person = register()
    assert _me(client, person.access_token) == 200  # cached as live
    assert client.post("/auth/logout", json={"refresh_token": person.refresh_token}).status_code == 204
    refused = client.get("/accounts/me", headers=person.headers)
    assert refused.status_code == 401
    assert set(refused.json()) == {"detail", "code"}
    assert refused.json()["code"] == "not_authenticated"


def test_an_access_token_stops_working_when_refresh_token_reuse_revokes_its_family(
    client: TestClient, register: Any
) -> None:
    person: Person = register()
    rotated = _refresh(client, person.refresh_token).json()
    assert _me(client, rotated["access_token"]) == 200
    assert _refresh(client, person.refresh_token).status_code == 401  # the replay revokes the family
    assert _me(client, rotated["access_token"]) == 401
    assert _me(client, person.access_token) == 401


def test_a_password_change_ends_my_other_sessions_access_tokens_and_mine_continues_by_refresh(
    client: TestClient, register: Any, mailbox: Mailbox
) -> None:
    person: Person = register()
    other = log_in(client, person.email)
    assert _me(client, other["access_token"]) == 200
    changed = client.post(
        "/auth/password/change",
        json={"current_password": person.password, "new_password": NEW_PASSWORD},
        headers=person.headers,
    )
    assert changed.status_code == 204
    assert _me(client, other["access_token"]) == 401
    assert _me(client, person.access_token) == 401  # the credential version moved on
    renewed = _refresh(client, person.refresh_token)
    assert renewed.status_code == 200
    assert _me(client, renewed.json()["access_token"]) == 200


def test_a_password_change_is_mailed_to_the_owner(client: TestClient, register: Any, mailbox: Mailbox) -> None:
    person: Person = register("Mallory Your account is locked")
    client.post(
        "/auth/password/change",
        json={"current_password": person.password, "new_password": NEW_PASSWORD},
        headers=person.headers,
    )
    mail = mailbox.wait_for(person.email, "Your password was changed")
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "was changed" in text
    assert "/auth/password/forgot" in text
    assert "locked" not in text


def test_a_password_reset_ends_every_access_token_at_once(client: TestClient, register: Any, mailbox: Mailbox) -> None:
    person: Person = register()
    other = log_in(client, person.email)
    assert _me(client, person.access_token) == _me(client, other["access_token"]) == 200
    client.post("/auth/password/forgot", json={"email": person.email})
    token = mailbox.token(person.email, "Reset your password")
    assert client.post("/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD}).status_code == 204
    assert _me(client, person.access_token) == 401
    assert _me(client, other["access_token"]) == 401


def test_a_session_ended_by_another_process_stops_its_tokens_within_the_bound(
    client: TestClient, register: Any, bound: float
) -> None:
    person: Person = register()
    assert _me(client, person.access_token) == 200
    with sync_engine().begin() as connection:  # another API process logs the session out
        connection.execute(
            update(LoginSession).where(LoginSession.id == _sid(person.access_token)).values(ended_at=utcnow())
        )
    started = time.monotonic()
    while _me(client, person.access_token) == 200:
        assert time.monotonic() - started < bound + 0.5, "the ended session still worked past the bound"
        time.sleep(0.05)
    assert _me(client, person.access_token) == 401


def test_a_credential_version_bumped_by_another_process_stops_tokens_within_the_bound(
    client: TestClient, register: Any, bound: float
) -> None:
    from chorus.models import User

    person: Person = register()
    assert _me(client, person.access_token) == 200
    with sync_engine().begin() as connection:
        connection.execute(update(User).where(User.id == person.id).values(session_version=User.session_version + 1))
    time.sleep(bound + 0.05)
    assert _me(client, person.access_token) == 401


def test_access_is_live_follows_the_session(client: TestClient, register: Any) -> None:
    person: Person = register()
    claims = read_access_token(person.access_token)
    assert client.portal is not None  # the app's event loop, that of the database pool
    assert client.portal.call(auth.access_is_live, claims) is True
    assert client.post("/auth/logout", json={"refresh_token": person.refresh_token}).status_code == 204
    assert client.portal.call(auth.access_is_live, claims) is False


def test_refresh_never_carries_a_session_past_its_absolute_lifetime(client: TestClient, register: Any) -> None:
    person: Person = register()
    end = utcnow() + timedelta(days=1)
    with sync_engine().begin() as connection:
        connection.execute(
            update(LoginSession).where(LoginSession.id == _sid(person.access_token)).values(expires_at=end)
        )
    rotated = _refresh(client, person.refresh_token)
    assert rotated.status_code == 200
    with sync_engine().connect() as connection:
        newest = connection.scalar(select(RefreshToken.expires_at).order_by(RefreshToken.created_at.desc()).limit(1))
    assert newest is not None
    assert newest <= end  # the sliding 30 days are cut at the session's end
    with sync_engine().begin() as connection:  # the absolute lifetime runs out
        connection.execute(
            update(LoginSession)
            .where(LoginSession.id == _sid(person.access_token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    refused = _refresh(client, rotated.json()["refresh_token"])
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_refresh_token"


def test_a_new_session_lasts_the_configured_absolute_lifetime(client: TestClient, register: Any) -> None:
    person: Person = register()
    with sync_engine().connect() as connection:
        login = connection.execute(select(LoginSession).where(LoginSession.id == _sid(person.access_token))).one()
    assert login.expires_at - login.created_at == timedelta(days=get_settings().session_max_days)


def test_i_can_list_my_sessions_with_their_clients_and_the_current_one_marked(
    client: TestClient, register: Any
) -> None:
    person: Person = register()
    phone = client.post(
        "/auth/token",
        data={"username": person.email, "password": person.password},
        headers={"User-Agent": "ChorusPhone/1.0"},
    ).json()
    listed = client.get("/auth/sessions", headers=person.headers)
    assert listed.status_code == 200
    assert listed.headers["cache-control"] == "no-store"
    items = listed.json()["items"]
    assert len(items) == 2
    by_id = {item["id"]: item for item in items}
    assert by_id[str(_sid(person.access_token))]["current"] is True
    assert by_id[str(_sid(phone["access_token"]))]["current"] is False
    assert by_id[str(_sid(phone["access_token"]))]["user_agent"] == "ChorusPhone/1.0"
    assert all(item["address"] and item["created_at"] and item["last_used_at"] for item in items)

    client.post("/auth/logout", json={"refresh_token": phone["refresh_token"]})
    assert [i["id"] for i in client.get("/auth/sessions", headers=person.headers).json()["items"]] == [
        str(_sid(person.access_token))
    ]


def test_ending_one_of_my_sessions_stops_its_tokens(client: TestClient, register: Any) -> None:
    person: Person = register()
    phone = log_in(client, person.email)
    assert _me(client, phone["access_token"]) == 200
    ended = client.delete(f"/auth/sessions/{_sid(phone['access_token'])}", headers=person.headers)
    assert ended.status_code == 204
    assert _me(client, phone["access_token"]) == 401
    assert _refresh(client, phone["refresh_token"]).status_code == 401
    assert _me(client, person.access_token) == 200
    again = client.delete(f"/auth/sessions/{_sid(phone['access_token'])}", headers=person.headers)
    assert again.status_code == 404


def test_someone_elses_session_is_404_like_an_unknown_one(client: TestClient, register: Any) -> None:
    ada: Person = register("Ada Lovelace")
    bob: Person = register("Bob Babbage")
    theirs = client.delete(f"/auth/sessions/{_sid(bob.access_token)}", headers=ada.headers)
    unknown = client.delete(f"/auth/sessions/{uuid.uuid4()}", headers=ada.headers)
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == unknown.json() == {"detail": "no such session", "code": "session_not_found"}
    assert _me(client, bob.access_token) == 200


def test_the_session_scenes_need_a_token(client: TestClient) -> None:
    assert client.get("/auth/sessions").status_code == 401
    assert client.delete(f"/auth/sessions/{uuid.uuid4()}").status_code == 401


def test_token_responses_are_never_cached(client: TestClient, register: Any) -> None:
    person: Person = register()
    login = client.post("/auth/token", data={"username": person.email, "password": person.password})
    refreshed = _refresh(client, person.refresh_token)
    for response in (login, refreshed):
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"


def test_verification_and_reset_mails_carry_no_display_name(client: TestClient, mailbox: Mailbox) -> None:
    email = f"victim-{uuid.uuid4().hex[:8]}@example.com"
    lure = "Your account is locked call 555 0100"
    body = {"email": email, "password": "correct horse battery staple", "display_name": lure}
    assert client.post("/auth/register", json=body).status_code == 201
    client.post("/auth/password/forgot", json={"email": email})
    for subject in ("Verify your email address", "Reset your password"):
        mail = mailbox.wait_for(email, subject)
        for part in ("plain", "html"):
            content = mail.get_body((part,))
            assert content is not None
            assert "locked" not in content.get_content()
            assert "555" not in content.get_content()


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("elevenchars", "at least 12 characters"),
        ("qwerty123456", "most common passwords"),
        ("1q2w3e4r5t6y", "most common passwords"),
        ("QAZWSXEDCRFV", "most common passwords"),
    ],
)
def test_short_and_common_passwords_are_refused(client: TestClient, register: Any, password: str, says: str) -> None:
    registration = {"email": "new@example.com", "password": password, "display_name": "New"}
    refused = client.post("/auth/register", json=registration)
    assert refused.status_code == 422
    assert refused.json()["code"] == "validation_error"
    assert says in refused.json()["detail"]
    person: Person = register()
    change = {"current_password": person.password, "new_password": password}
    assert client.post("/auth/password/change", json=change, headers=person.headers).status_code == 422
    reset = client.post("/auth/password/reset", json={"token": "x" * 43, "new_password": password})
    assert reset.status_code == 422
