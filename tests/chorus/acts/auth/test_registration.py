"""Registering and verifying an email address."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from chorus.db import sync_engine, task_session
from chorus.models import EmailToken, OutboxTask, utcnow
from tests.people import PASSWORD, Mailbox, Person

SUBJECT = "Verify your email address"


def _register(client: TestClient, email: str = "grace@example.com", **overrides: str) -> dict[str, object]:
    body = {"email": email, "password": PASSWORD, "display_name": "Grace Hopper"} | overrides
    response = client.post("/auth/register", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_register_creates_an_unverified_account_and_the_worker_mails_a_token(
    client: TestClient, mailbox: Mailbox
) -> None:
    account = _register(client, email="Grace@Example.COM")
    assert account["email"] == "grace@example.com"
    assert account["email_verified"] is False
    assert "password" not in str(account)

    mail = mailbox.wait_for("grace@example.com", SUBJECT)
    assert mail.get_body(("html",)) is not None, "the mail has an HTML part"
    token = mailbox.token("grace@example.com", SUBJECT)
    assert client.post("/auth/verify", json={"token": token}).status_code == 204

    login = client.post("/auth/token", data={"username": "grace@example.com", "password": PASSWORD})
    assert login.status_code == 200
    me = client.get("/accounts/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.json()["email_verified"] is True


def test_a_taken_email_is_409_whatever_its_case(client: TestClient) -> None:
    _register(client)
    again = client.post(
        "/auth/register", json={"email": "GRACE@example.com", "password": PASSWORD, "display_name": "Other"}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "email_taken"


def test_an_unverified_account_cannot_log_in(client: TestClient) -> None:
    _register(client)
    login = client.post("/auth/token", data={"username": "grace@example.com", "password": PASSWORD})
    assert login.status_code == 401
    assert login.json()["code"] == "email_not_verified"


def test_the_verification_token_works_once(client: TestClient, mailbox: Mailbox) -> None:
    _register(client)
    token = mailbox.token("grace@example.com", SUBJECT)
    assert client.post("/auth/verify", json={"token": token}).status_code == 204
    second = client.post("/auth/verify", json={"token": token})
    assert second.status_code == 400
    assert second.json()["code"] == "invalid_token"


def test_an_expired_verification_token_is_refused(client: TestClient, mailbox: Mailbox) -> None:
    _register(client)
    token = mailbox.token("grace@example.com", SUBJECT)
    with sync_engine().begin() as connection:
        connection.execute(update(EmailToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.post("/auth/verify", json={"token": token})
    assert response.status_code == 400
    assert "expired" in response.json()["detail"]


def test_a_forged_verification_token_is_refused(client: TestClient) -> None:
    response = client.post("/auth/verify", json={"token": "x" * 43})
    assert response.status_code == 400


def test_resend_mails_a_new_token_and_answers_the_same_for_unknown_addresses(
    client: TestClient, mailbox: Mailbox
) -> None:
    _register(client)
    mailbox.wait_for("grace@example.com", SUBJECT)
    known = client.post("/auth/verify/resend", json={"email": "grace@example.com"})
    unknown = client.post("/auth/verify/resend", json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    second_token = mailbox.token("grace@example.com", SUBJECT, count=2)
    assert client.post("/auth/verify", json={"token": second_token}).status_code == 204


def _timed_resend(client: TestClient, email: str) -> tuple[float, int, object]:
    started = time.perf_counter()
    response = client.post("/auth/verify/resend", json={"email": email})
    return time.perf_counter() - started, response.status_code, response.json()


def _resends_queued() -> int:
    with task_session() as session:
        return (
            session.scalar(
                select(func.count()).select_from(OutboxTask).where(OutboxTask.task == "auth.resend_verification_email")
            )
            or 0
        )


def test_resend_answers_alike_and_does_the_same_work_whether_or_not_the_account_awaits_verification(
    client: TestClient, register: object, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: Person = register()  # type: ignore[operator]
    _register(client)  # grace@example.com awaits verification
    mailbox.wait_for("grace@example.com", SUBJECT)
    waiting = [_timed_resend(client, "grace@example.com") for _ in range(7)]
    after_waiting = _resends_queued()
    done = [_timed_resend(client, verified.email) for _ in range(7)]
    assert {(status, str(body)) for _, status, body in waiting} == {(status, str(body)) for _, status, body in done}
    # The same work in the request either way (one task queued; the worker looks the address up), so no timing
    # tells an account awaiting verification from one that does not.
    assert after_waiting == _resends_queued() - after_waiting == 7
    waiting_median = statistics.median(t for t, _, _ in waiting)
    done_median = statistics.median(t for t, _, _ in done)
    assert abs(waiting_median - done_median) < max(0.05, waiting_median, done_median)
    mailbox.wait_for("grace@example.com", SUBJECT, count=8)
    assert len(mailbox.to(verified.email)) == 1  # only the verification mail of registering
