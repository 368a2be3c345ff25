"""Password hashing cannot starve the service: no pooled connection waits on a hash, hashes are bounded per process,
and a registration flood leaves other people's requests fast and never answers 500."""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from chorus.acts.auth import password_hashing
from chorus.celery import app as celery_app
from chorus.config import Settings, describe, get_settings
from chorus.db import async_engine
from chorus.web import Problem
from tests.people import Mailbox, Person
from tests.servers import api_process

RESET_SUBJECT = "Reset your password"
NEW_PASSWORD = "a brand new passphrase"
FLOOD = 100


@pytest.fixture
def checked_out_while_hashing(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The API pool's checked-out connections, recorded at the start of every hash and verification."""
    seen: list[int] = []
    hash_password, verify_password = password_hashing.hash_password, password_hashing.verify_password

    def counted_hash(password: str) -> str:
        seen.append(async_engine().pool.checkedout())  # type: ignore[attr-defined]
        return hash_password(password)

    def counted_verify(password: str, password_hash: str | None) -> tuple[bool, str | None]:
        seen.append(async_engine().pool.checkedout())  # type: ignore[attr-defined]
        return verify_password(password, password_hash)

    monkeypatch.setattr(password_hashing, "hash_password", counted_hash)
    monkeypatch.setattr(password_hashing, "verify_password", counted_verify)
    return seen


def test_registration_holds_no_database_connection_while_hashing(
    client: TestClient, checked_out_while_hashing: list[int]
) -> None:
    body = {"email": f"ada-{uuid.uuid4().hex[:8]}@example.com", "password": NEW_PASSWORD, "display_name": "Ada"}
    assert client.post("/auth/register", json=body).status_code == 201
    assert checked_out_while_hashing == [0]


def test_password_reset_change_and_account_deletion_hold_no_database_connection_while_hashing(
    client: TestClient, register: Any, mailbox: Mailbox, checked_out_while_hashing: list[int]
) -> None:
    person: Person = register()
    client.post("/auth/password/forgot", json={"email": person.email})
    token = mailbox.token(person.email, RESET_SUBJECT)
    checked_out_while_hashing.clear()
    assert client.post("/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD}).status_code == 204
    assert checked_out_while_hashing == [0]

    person = register("Grace Hopper")
    checked_out_while_hashing.clear()
    change = {"current_password": person.password, "new_password": NEW_PASSWORD}
    assert client.post("/auth/password/change", json=change, headers=person.headers).status_code == 204
    assert checked_out_while_hashing == [0, 0]  # the current password verified, the new one hashed

    person = register("Alan Turing")
    checked_out_while_hashing.clear()
    deleted = client.request("DELETE", "/accounts/me", json={"password": person.password}, headers=person.headers)
    assert deleted.status_code == 204
    assert checked_out_while_hashing == [0]


def _configure(monkeypatch: pytest.MonkeyPatch, **changes: float) -> None:
    """Hashing settings for one test (the settings themselves are frozen)."""
    settings = get_settings().model_copy(update=changes)
    monkeypatch.setattr(password_hashing, "get_settings", lambda: settings)


def test_concurrent_hashes_never_exceed_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    _configure(monkeypatch, max_concurrent_hashes=2, hash_wait_seconds=10)
    running = peak = 0
    lock = threading.Lock()

    def slow_hash(password: str) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.1)
        with lock:
            running -= 1
        return password

    monkeypatch.setattr(password_hashing, "hash_password", slow_hash)

    async def flood() -> list[str]:
        return await asyncio.gather(*(password_hashing.hash_password_off_loop(str(n)) for n in range(8)))

    assert asyncio.run(flood()) == [str(n) for n in range(8)]
    assert peak == 2


def test_a_hash_that_finds_no_slot_in_time_answers_503_with_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    _configure(monkeypatch, max_concurrent_hashes=1, hash_wait_seconds=0.2)
    monkeypatch.setattr(password_hashing, "hash_password", lambda password: time.sleep(1) or password)

    async def flood() -> list[str | BaseException]:
        return await asyncio.gather(
            *(password_hashing.hash_password_off_loop(str(n)) for n in range(3)), return_exceptions=True
        )

    first, *others = asyncio.run(flood())
    assert first == "0"
    for refused in others:
        assert isinstance(refused, Problem)
        assert (refused.status_code, refused.code) == (503, "hashing_busy")
        assert refused.headers == {"Retry-After": "1"}


def test_an_invalid_hashing_bound_stops_start_up_naming_the_variable() -> None:
    for field, value in (("max_concurrent_hashes", 0), ("hash_wait_seconds", 0)):
        with pytest.raises(ValidationError) as refused:
            Settings(**{field: value})
        assert f"CHORUS_{field.upper()}" in describe(refused.value)


@pytest.fixture(scope="module")
def api(worker: Any) -> Iterator[str]:
    """An API process with two hashing slots, as on a small machine. Its mails go to a queue of its own, deleted
    afterwards, so the suite's worker does not spend the next tests sending a hundred verification mails."""
    queue = f"{get_settings().task_queue}-flood"
    with api_process(
        CHORUS_MAX_CONCURRENT_HASHES="2", CHORUS_HASH_WAIT_SECONDS="3", CHORUS_TASK_QUEUE=queue
    ) as base_url:
        yield base_url
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_delete(queue)


def _register(base: str, start: threading.Barrier) -> httpx2.Response:
    body = {"email": f"flood-{uuid.uuid4().hex}@example.com", "password": NEW_PASSWORD, "display_name": "Flood"}
    # The client is built (and connected) first, so the measured burst is the server's work, not this process's.
    with httpx2.Client(base_url=base, timeout=120) as client:
        client.get("/health")
        start.wait()
        return client.post("/auth/register", json=body)


def test_a_registration_flood_leaves_other_requests_fast_and_never_answers_500(api: str, register: Any) -> None:
    reader: Person = register()
    start = threading.Barrier(FLOOD + 1)
    with httpx2.Client(base_url=api, timeout=120) as me, ThreadPoolExecutor(FLOOD) as pool:
        quiet = [_timed_me(me, reader) for _ in range(5)]
        flood = [pool.submit(_register, api, start) for _ in range(FLOOD)]
        start.wait()
        during: list[float] = []
        while not all(future.done() for future in flood) or len(during) < 5:
            during.append(_timed_me(me, reader))
            time.sleep(0.05)
        answers = [future.result() for future in flood]

    statuses = sorted(response.status_code for response in answers)
    figures = (
        f"statuses {dict((s, statuses.count(s)) for s in set(statuses))}; /accounts/me quiet median "
        f"{statistics.median(quiet):.3f}s, during the flood median {statistics.median(during):.3f}s, "
        f"p95 {_p95(during):.3f}s, max {max(during):.3f}s over {len(during)} requests"
    )
    print(figures)
    assert set(statuses) <= {201, 429, 503}, figures
    assert 201 in statuses, figures
    for refused in (response for response in answers if response.status_code in (429, 503)):
        assert int(refused.headers["Retry-After"]) >= 1, figures
        assert set(refused.json()) >= {"detail", "code"}, figures
    assert _p95(during) < 1.0, figures


def _timed_me(client: httpx2.Client, person: Person) -> float:
    started = time.perf_counter()
    response = client.get("/accounts/me", headers=person.headers)
    assert response.status_code == 200, response.text
    return time.perf_counter() - started


def _p95(times: list[float]) -> float:
    return sorted(times)[max(0, round(0.95 * len(times)) - 1)]
