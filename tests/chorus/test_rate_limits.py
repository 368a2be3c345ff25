"""Rate limits on the abuse-prone routes: per client address and per account, 429 with Retry-After and
``{detail, code}``; the database store counts atomically; mails to one address are capped per hour; someone who left a
thread is not added back at once."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from chorus import web
from chorus.acts.message.tasks.digest import send_unread_digests
from chorus.adapters import rate_limits
from chorus.config import get_settings
from chorus.db import sync_engine
from chorus.models import Message, utcnow
from tests.addresses import from_address
from tests.conversations import post, start_thread
from tests.people import Mailbox, Person


def _lower(monkeypatch: pytest.MonkeyPatch, **settings: Any) -> None:
    lowered = get_settings().model_copy(update=settings)
    monkeypatch.setattr(web, "get_settings", lambda: lowered)
    monkeypatch.setattr(rate_limits, "get_settings", lambda: lowered)


def _assert_limited(response: Any) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["code"] == "rate_limited"
    assert response.json()["detail"]
    assert int(response.headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/register", {"email": "x@example.com", "password": "short", "display_name": "X"}),
        ("/auth/verify", {"token": "y" * 43}),
        ("/auth/verify/resend", {"email": "x@example.com"}),
        ("/auth/password/forgot", {"email": "x@example.com"}),
        ("/auth/password/reset", {"token": "y" * 43, "new_password": "a long enough passphrase"}),
    ],
)
def test_anonymous_auth_routes_are_limited_per_client_address(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, path: str, body: dict[str, Any]
) -> None:
    _lower(monkeypatch, auth_requests_per_address="3/hour")
    statuses = [client.post(path, json=body).status_code for _ in range(3)]
    assert 429 not in statuses
    _assert_limited(client.post(path, json=body))
    with from_address(client, "198.51.100.20") as elsewhere:
        assert elsewhere.post(path, json=body).status_code != 429, "another address has its own count"


def test_people_search_is_limited_per_account_whatever_the_address(
    client: TestClient, register: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada: Person = register("Ada Lovelace")
    bob: Person = register("Bob Babbage")
    _lower(monkeypatch, searches_per_account="3/minute")
    for n in range(3):
        with from_address(client, f"192.0.2.{n + 1}") as somewhere:
            assert somewhere.get("/accounts", params={"q": "a"}, headers=ada.headers).status_code == 200
    _assert_limited(client.get("/accounts", params={"q": "a"}, headers=ada.headers))
    assert client.get("/accounts", params={"q": "a"}, headers=bob.headers).status_code == 200


def test_people_search_is_limited_per_address_across_accounts(
    client: TestClient, register: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = [register(name) for name in ("Ada Lovelace", "Bob Babbage", "Cy Young")]
    _lower(monkeypatch, searches_per_address="2/minute")
    assert [client.get("/accounts", params={"q": "a"}, headers=p.headers).status_code for p in people[:2]] == [200] * 2
    _assert_limited(client.get("/accounts", params={"q": "a"}, headers=people[2].headers))


def test_thread_creation_and_participant_adds_are_limited_per_account(
    client: TestClient, register: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada, bob, cy = register("Ada Lovelace"), register("Bob Babbage"), register("Cy Young")
    _lower(monkeypatch, threads_per_account="2/hour", participant_adds_per_account="1/hour")
    thread = start_thread(client, ada, title="one")
    start_thread(client, ada, title="two")
    _assert_limited(client.post("/threads", json={"title": "three", "participant_ids": []}, headers=ada.headers))
    adds = f"/threads/{thread['id']}/participants"
    assert client.post(adds, json={"user_id": str(bob.id)}, headers=ada.headers).status_code == 201
    _assert_limited(client.post(adds, json={"user_id": str(cy.id)}, headers=ada.headers))


def test_the_database_store_counts_concurrent_hits_exactly(client: TestClient) -> None:
    """Fifty hits at once against a limit of five: five allowed, whatever the interleaving (UPSERT ... RETURNING)."""
    item = rate_limits.parse("5/minute")
    storage = rate_limits.DatabaseStorage()

    async def hits() -> list[int]:
        return list(await asyncio.gather(*(storage.incr(item.key_for("race"), 60) for _ in range(50))))

    assert client.portal is not None  # the app's event loop, that of the database pool
    counts = client.portal.call(hits)
    assert sorted(counts) == list(range(1, 51))
    assert sum(count <= item.amount for count in counts) == 5


def test_fifty_forgot_password_calls_for_one_person_send_at_most_the_cap(
    client: TestClient, register: Any, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    cap = 5
    _lower(monkeypatch, mails_per_address_per_hour=cap)
    victim: Person = register()  # one verification mail already counts
    for _ in range(50):
        assert client.post("/auth/password/forgot", json={"email": victim.email}).status_code == 202
    mailbox.wait_for(victim.email, "Reset your password", count=cap - 1)
    time.sleep(2)  # let the worker finish the rest of the queue
    assert len(mailbox.to(victim.email)) == cap


def test_thirty_threads_started_with_a_stranger_send_at_most_the_cap_of_digests(
    client: TestClient, register: Any, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    cap = 5
    _lower(monkeypatch, mails_per_address_per_hour=cap)
    stranger, victim = register("Mallory Spam"), register("Vic Tim")
    for n in range(30):
        thread = start_thread(client, stranger, victim, title=f"Buy now {n}")
        post(client, stranger, thread["id"], "cheap watches")
    older = utcnow() - timedelta(minutes=get_settings().digest_delay_minutes + 1)
    with sync_engine().begin() as connection:
        connection.execute(update(Message).values(created_at=older))
    already = len(mailbox.to(victim.email))  # the verification mail
    assert send_unread_digests() == 30
    deadline = time.monotonic() + 30
    while len(mailbox.to(victim.email)) < cap and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2)
    assert len(mailbox.to(victim.email)) == cap, f"{already} before the digests"


def test_someone_who_left_a_thread_is_not_added_back_at_once(client: TestClient, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob)
    participants = f"/threads/{thread['id']}/participants"
    assert client.delete(f"{participants}/{bob.id}", headers=bob.headers).status_code == 204
    again = client.post(participants, json={"user_id": str(bob.id)}, headers=ada.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "left_recently"


def test_someone_removed_by_the_owner_can_be_added_back(client: TestClient, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob)
    participants = f"/threads/{thread['id']}/participants"
    assert client.delete(f"{participants}/{bob.id}", headers=ada.headers).status_code == 204
    assert client.post(participants, json={"user_id": str(bob.id)}, headers=ada.headers).status_code == 201
