"""The login throttle counts each attempt before hashing (no race), locks out per (account, client address) with
growing delays so a stranger cannot lock the owner out, and keeps a looser ceiling per account over all addresses."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from chorus.acts.auth import throttle
from chorus.acts.auth.password_hashing import verify_password_off_loop
from chorus.acts.auth.scenes import login
from chorus.adapters import rate_limits
from chorus.config import get_settings
from chorus.db import async_engine
from tests.addresses import from_address
from tests.people import PASSWORD, Person
from tests.servers import api_process

WRONG = "not the password!"


def _guess(client: TestClient, email: str, password: str = WRONG) -> int:
    return client.post("/auth/token", data={"username": email, "password": password}).status_code


def _lower(monkeypatch: pytest.MonkeyPatch, **settings: Any) -> None:
    lowered = get_settings().model_copy(update=settings)
    monkeypatch.setattr(throttle, "get_settings", lambda: lowered)


def test_sixty_parallel_guesses_against_a_limit_of_five_get_at_most_five_answers(register: Any) -> None:
    person: Person = register()
    passwords = [f"wrong guess number {n}" for n in range(59)]
    passwords.insert(37, PASSWORD)  # the right one is among them, late

    with api_process(CHORUS_LOGIN_FAILURES_PER_ACCOUNT="5") as base_url:

        def attempt(password: str) -> int:
            data = {"username": person.email, "password": password}
            return httpx2.post(f"{base_url}/auth/token", data=data, timeout=60).status_code

        with ThreadPoolExecutor(max_workers=60) as pool:
            statuses = Counter(pool.map(attempt, passwords))

    assert statuses[429] >= 55, statuses
    assert statuses[401] + statuses[200] <= 5, statuses
    assert set(statuses) <= {200, 401, 429}, statuses


def test_a_stranger_s_bad_guesses_do_not_lock_the_owner_out_from_another_address(
    client: TestClient, register: Any
) -> None:
    person: Person = register()
    limit = get_settings().login_failures_per_account
    with from_address(client, "203.0.113.9") as stranger:
        statuses = [_guess(stranger, person.email) for _ in range(limit + 1)]
        assert statuses == [401] * limit + [429]
        assert _guess(stranger, person.email, PASSWORD) == 429, "the stranger's address stays locked, right or wrong"
    with from_address(client, "198.51.100.7") as owner:
        assert _guess(owner, person.email, PASSWORD) == 200


def test_lockouts_of_one_account_from_one_address_grow_longer(
    client: TestClient, register: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    person: Person = register()
    _lower(monkeypatch, login_failures_per_account=2, login_throttle_minutes=1)
    assert [_guess(client, person.email) for _ in range(3)] == [401, 401, 429]
    first = client.post("/auth/token", data={"username": person.email, "password": "again wrong!"})
    assert 0 < int(first.headers["retry-after"]) <= 60
    # The first window ends (as if a minute passed): two more failures lock the pair for up to 4 minutes.
    tier, identifiers = throttle._pair_tiers(person.email, "testclient")[0]
    assert client.portal is not None  # the app's event loop, that of the store's connection pool
    client.portal.call(rate_limits.clear, tier, *identifiers)
    assert [_guess(client, person.email) for _ in range(3)] == [401, 401, 429]
    second = client.post("/auth/token", data={"username": person.email, "password": "again wrong!"})
    assert 60 < int(second.headers["retry-after"]) <= 4 * 60


def test_a_ceiling_per_account_stops_guessing_spread_over_many_addresses(
    client: TestClient, register: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    person: Person = register()
    _lower(monkeypatch, login_failures_per_account_ceiling=4)
    statuses = []
    for n in range(6):
        with from_address(client, f"192.0.2.{n + 1}") as guesser:
            statuses.append(_guess(guesser, person.email))
    assert statuses == [401] * 4 + [429, 429]


def test_a_successful_login_does_not_count_against_the_address(
    client: TestClient, register: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    person: Person = register()
    _lower(monkeypatch, login_failures_per_address=3)
    for _ in range(6):
        assert _guess(client, person.email, PASSWORD) == 200


def test_a_login_holds_no_database_connection_while_it_hashes(
    client: TestClient, register: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    person: Person = register()
    checked_out: list[int] = []

    async def watching(password: str, stored: str | None) -> tuple[bool, str | None]:
        checked_out.append(async_engine().pool.checkedout())  # type: ignore[attr-defined]
        return await verify_password_off_loop(password, stored)

    monkeypatch.setattr(login, "verify_password_off_loop", watching)
    assert _guess(client, person.email, PASSWORD) == 200
    assert _guess(client, person.email) == 401
    assert checked_out == [0, 0]
