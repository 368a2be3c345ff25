"""Forgotten, reset and changed passwords."""

from __future__ import annotations

import statistics
import time

from fastapi.testclient import TestClient

from tests.people import Mailbox, Person, log_in

RESET_SUBJECT = "Reset your password"
NEW_PASSWORD = "a brand new passphrase"


def _timed_forgot(client: TestClient, email: str) -> tuple[float, int, dict[str, object]]:
    started = time.perf_counter()
    response = client.post("/auth/password/forgot", json={"email": email})
    return time.perf_counter() - started, response.status_code, response.json()


def test_forgot_password_answers_the_same_whether_or_not_the_account_exists(
    client: TestClient, register: object, mailbox: Mailbox
) -> None:
    person: Person = register()  # type: ignore[operator]
    known = [_timed_forgot(client, person.email) for _ in range(7)]
    unknown = [_timed_forgot(client, "nobody@example.com") for _ in range(7)]
    assert {(status, str(body)) for _, status, body in known} == {(status, str(body)) for _, status, body in unknown}
    assert known[0][1] == 202
    # Both answers do the same work in the request (queue one task), so their times are alike.
    known_median = statistics.median(t for t, _, _ in known)
    unknown_median = statistics.median(t for t, _, _ in unknown)
    assert abs(known_median - unknown_median) < max(0.05, known_median, unknown_median)
    mailbox.wait_for(person.email, RESET_SUBJECT, count=7)
    assert mailbox.to("nobody@example.com") == []


def test_reset_sets_the_password_once_and_ends_every_session(
    client: TestClient, register: object, mailbox: Mailbox
) -> None:
    person: Person = register()  # type: ignore[operator]
    client.post("/auth/password/forgot", json={"email": person.email})
    token = mailbox.token(person.email, RESET_SUBJECT)

    assert client.post("/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD}).status_code == 204
    again = client.post("/auth/password/reset", json={"token": token, "new_password": "yet another passphrase"})
    assert again.status_code == 400

    assert client.get("/accounts/me", headers=person.headers).status_code == 401
    assert client.post("/auth/refresh", json={"refresh_token": person.refresh_token}).status_code == 401
    old = client.post("/auth/token", data={"username": person.email, "password": person.password})
    assert old.status_code == 401
    log_in(client, person.email, NEW_PASSWORD)


def test_an_earlier_reset_token_dies_when_a_later_one_is_used(
    client: TestClient, register: object, mailbox: Mailbox
) -> None:
    person: Person = register()  # type: ignore[operator]
    client.post("/auth/password/forgot", json={"email": person.email})
    first = mailbox.token(person.email, RESET_SUBJECT)
    client.post("/auth/password/forgot", json={"email": person.email})
    second = mailbox.token(person.email, RESET_SUBJECT, count=2)
    assert first != second
    assert client.post("/auth/password/reset", json={"token": second, "new_password": NEW_PASSWORD}).status_code == 204
    stale = client.post("/auth/password/reset", json={"token": first, "new_password": "yet another passphrase"})
    assert stale.status_code == 400


def test_change_needs_the_current_password_and_ends_my_other_sessions(client: TestClient, register: object) -> None:
    person: Person = register()  # type: ignore[operator]
    other = log_in(client, person.email)
    wrong = client.post(
        "/auth/password/change",
        json={"current_password": "not my password", "new_password": NEW_PASSWORD},
        headers=person.headers,
    )
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "wrong_password"

    changed = client.post(
        "/auth/password/change",
        json={"current_password": person.password, "new_password": NEW_PASSWORD},
        headers=person.headers,
    )
    assert changed.status_code == 204
    assert client.post("/auth/refresh", json={"refresh_token": other["refresh_token"]}).status_code == 401
    assert client.post("/auth/refresh", json={"refresh_token": person.refresh_token}).status_code == 200
    log_in(client, person.email, NEW_PASSWORD)


def test_change_requires_authentication(client: TestClient) -> None:
    response = client.post(
        "/auth/password/change", json={"current_password": "whatever it is", "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 401
