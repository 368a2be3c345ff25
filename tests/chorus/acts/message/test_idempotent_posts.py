"""Posting with an Idempotency-Key: a retry gets the first answer and posts nothing new, the key cannot be reused for
another request, each account's keys are its own, and duplicates sent at once still post one message."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from chorus.acts.message.scenes import posting
from chorus.db import sync_engine
from chorus.models import IdempotencyKey, Message, utcnow
from tests.conversations import start_thread
from tests.people import Person, make_person
from tests.servers import api_process


def _messages() -> int:
    with sync_engine().connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(Message)) or 0)


def _post(client: TestClient, person: Person, thread_id: str, body: str, key: str) -> Any:
    return client.post(
        f"/threads/{thread_id}/messages", json={"body": body}, headers=person.headers | {"Idempotency-Key": key}
    )


def test_a_retried_post_gets_the_first_answer_and_posts_nothing_new(client: TestClient) -> None:
    ada, bob = make_person("Ada Lovelace"), make_person("Bob Babbage")
    thread = start_thread(client, ada, bob)

    first = _post(client, ada, thread["id"], "Noon?", "lunch-question-1")
    again = _post(client, ada, thread["id"], "Noon?", "lunch-question-1")

    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert _messages() == 1
    listed = client.get(f"/threads/{thread['id']}/messages", headers=bob.headers).json()["items"]
    assert [m["id"] for m in listed] == [first.json()["id"]]
    assert client.get("/threads", headers=bob.headers).json()["items"][0]["unread_count"] == 1


def test_the_same_key_for_another_request_is_refused_and_posts_nothing(client: TestClient) -> None:
    ada, bob = make_person("Ada Lovelace"), make_person("Bob Babbage")
    lunch, dinner = start_thread(client, ada, bob, title="Lunch"), start_thread(client, ada, bob, title="Dinner")
    assert _post(client, ada, lunch["id"], "Noon?", "k1").status_code == 201

    for thread_id, body in ((lunch["id"], "One?"), (dinner["id"], "Noon?")):
        refused = _post(client, ada, thread_id, body, "k1")
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "idempotency_key_reused"
        assert refused.json()["detail"]
    assert _messages() == 1


def test_each_account_has_keys_of_its_own(client: TestClient) -> None:
    ada, bob = make_person("Ada Lovelace"), make_person("Bob Babbage")
    thread = start_thread(client, ada, bob)

    adas = _post(client, ada, thread["id"], "Noon?", "same-key")
    bobs = _post(client, bob, thread["id"], "Noon?", "same-key")

    assert (adas.status_code, bobs.status_code) == (201, 201)
    assert "idempotent-replayed" not in bobs.headers
    assert bobs.json()["author_id"] == str(bob.id)
    assert bobs.json()["id"] != adas.json()["id"]
    assert _messages() == 2


@pytest.mark.parametrize("key", ["", "has space", "tab\there", "x" * 256])
def test_a_malformed_key_is_refused_as_invalid_input(client: TestClient, key: str) -> None:
    ada = make_person()
    thread = start_thread(client, ada)
    refused = _post(client, ada, thread["id"], "Noon?", key)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "validation_error"
    assert _messages() == 0


def test_a_key_past_its_hours_is_free_again(client: TestClient) -> None:
    ada = make_person()
    thread = start_thread(client, ada)
    first = _post(client, ada, thread["id"], "Noon?", "old-key")
    with sync_engine().begin() as connection:
        connection.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))

    later = _post(client, ada, thread["id"], "Noon?", "old-key")

    assert later.status_code == 201, later.text
    assert "idempotent-replayed" not in later.headers
    assert later.json()["id"] != first.json()["id"]
    assert _post(client, ada, thread["id"], "Noon?", "old-key").json()["id"] == later.json()["id"]
    assert _messages() == 2


def test_a_duplicate_arriving_while_the_first_is_still_posting_gets_its_answer(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada, bob = make_person("Ada Lovelace"), make_person("Bob Babbage")
    thread = start_thread(client, ada, bob)
    real_post, holding = posting.post_new_message, threading.Event()

    async def slow_post(*args: Any, **kwargs: Any) -> Any:
        # The first post holds its transaction open, key taken, while the duplicate arrives and waits on the key.
        if not holding.is_set():
            holding.set()
            await asyncio.sleep(0.5)
        return await real_post(*args, **kwargs)

    monkeypatch.setattr(posting, "post_new_message", slow_post)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(_post, client, ada, thread["id"], "Noon?", "once")
        assert holding.wait(10)
        duplicate = pool.submit(_post, client, ada, thread["id"], "Noon?", "once")
        answers = [first.result(timeout=30), duplicate.result(timeout=30)]

    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert [a.headers.get("idempotent-replayed") for a in answers] == [None, "true"]
    assert answers[1].json() == answers[0].json()
    assert _messages() == 1


def test_duplicates_sent_at_once_to_a_server_post_one_message(client: TestClient) -> None:
    ada, bob = make_person("Ada Lovelace"), make_person("Bob Babbage")
    thread = start_thread(client, ada, bob)
    copies = 6
    with api_process() as base_url:
        url = f"{base_url}/threads/{thread['id']}/messages"
        headers = ada.headers | {"Idempotency-Key": "burst"}
        start = threading.Barrier(copies)

        def send(_: int) -> httpx2.Response:
            start.wait(10)
            return httpx2.post(url, json={"body": "Noon?"}, headers=headers, timeout=30)

        with ThreadPoolExecutor(copies) as pool:
            answers = list(pool.map(send, range(copies)))

    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1, "every copy got the same answer"
    assert sum("idempotent-replayed" not in a.headers for a in answers) == 1
    assert _messages() == 1
