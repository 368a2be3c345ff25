"""Starting a thread with an Idempotency-Key: a retry gets the first thread back and starts no other, the key cannot
be reused for another request, a refused request keeps no key, duplicates sent at once start one thread, and the
hourly purge deletes only expired keys."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from chorus.acts.thread.scenes import threads
from chorus.acts.thread.tasks.idempotency_purge import purge_idempotency_keys
from chorus.db import sync_engine
from chorus.models import Base, IdempotencyKey, Thread, User, utcnow
from tests.people import Person, make_person


def _count(model: type[Base]) -> int:
    with sync_engine().connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


def _start(client: TestClient, person: Person, key: str, title: str = "Lunch", *others: Person) -> Any:
    body = {"title": title, "participant_ids": [str(p.id) for p in others]}
    return client.post("/threads", json=body, headers=person.headers | {"Idempotency-Key": key})


def test_a_retried_start_gets_the_first_thread_and_starts_no_other(client: TestClient) -> None:
    ada, bob = make_person("Ada Lovelace"), make_person("Bob Babbage")

    first = _start(client, ada, "start-lunch", "Lunch", bob)
    again = _start(client, ada, "start-lunch", "Lunch", bob)

    assert first.status_code == again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert _count(Thread) == 1
    read = client.get(f"/threads/{first.json()['id']}", headers=bob.headers).json()
    assert read == first.json() | {"unread_count": 0}


def test_the_same_key_for_another_thread_is_refused(client: TestClient) -> None:
    ada = make_person()
    assert _start(client, ada, "k", "Lunch").status_code == 201

    refused = _start(client, ada, "k", "Dinner")

    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "idempotency_key_reused"
    assert _count(Thread) == 1


def test_a_refused_start_keeps_no_key(client: TestClient) -> None:
    ada, ghost = make_person("Ada Lovelace"), make_person("Ghost Writer")
    with sync_engine().begin() as connection:
        connection.execute(update(User).where(User.id == ghost.id).values(deleted_at=utcnow()))

    refused = _start(client, ada, "try", "Lunch", ghost)
    assert refused.json()["code"] == "unknown_participant"
    assert _count(IdempotencyKey) == 0

    started = _start(client, ada, "try", "Lunch")
    assert started.status_code == 201, started.text
    assert "idempotent-replayed" not in started.headers


def test_duplicates_sent_at_once_start_one_thread(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    ada = make_person()
    real_replay_or_take_key, holding = threads.replay_or_take_key, threading.Event()

    async def slow_after_taking(*args: Any, **kwargs: Any) -> JSONResponse | None:
        first_answer = await real_replay_or_take_key(*args, **kwargs)
        if first_answer is None and not holding.is_set():
            # The key is taken and the transaction open: the duplicate arrives now and waits on the key.
            holding.set()
            await asyncio.sleep(0.5)
        return first_answer

    monkeypatch.setattr(threads, "replay_or_take_key", slow_after_taking)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(_start, client, ada, "once")
        assert holding.wait(10)
        duplicate = pool.submit(_start, client, ada, "once")
        answers = [first.result(timeout=30), duplicate.result(timeout=30)]

    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert [a.headers.get("idempotent-replayed") for a in answers] == [None, "true"]
    assert answers[1].json() == answers[0].json()
    assert _count(Thread) == 1


def test_the_purge_deletes_expired_keys_only(client: TestClient) -> None:
    ada = make_person()
    for key in ("old", "new"):
        assert _start(client, ada, key, f"Thread {key}").status_code == 201
    with sync_engine().begin() as connection:
        connection.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == "old")
            .values(created_at=utcnow() - timedelta(hours=24, minutes=1))
        )

    assert purge_idempotency_keys.apply().get() == 1
    assert purge_idempotency_keys.apply().get() == 0
    with sync_engine().connect() as connection:
        assert list(connection.scalars(select(IdempotencyKey.key))) == ["new"]
    assert _start(client, ada, "new", "Thread new").headers["idempotent-replayed"] == "true"
