"""The database cut or partitioned while requests arrive at a real API process: each request answers 503 in the error
shape with Retry-After within about CHORUS_DATABASE_TIMEOUT_SECONDS (2 s), never 500, and the process serves again
as soon as the path heals, without a restart.

The API process reaches PostgreSQL through proxies of its own, not the suite's ``faults.database``: the suite holds
its advisory lock on a connection through that one, and a cut there would end the lock with the connection.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import pytest

from tests.faults.proxy import FaultProxy
from tests.people import Person, make_person
from tests.servers import api_process
from tests.services import Proxies
from tests.timing import timed, until

CUT_ANSWER_SECONDS = 1.0  # a reset connection fails at once
PARTITION_ANSWER_SECONDS = 3.0  # a silent one after the 2 s timeout
HEALED_WITHIN_SECONDS = 1.0
UNAVAILABLE = "the database is unavailable; try again shortly"


@pytest.fixture(scope="module")
def paths() -> Iterator[Proxies]:
    """The API process's own paths to the services."""
    proxies = Proxies.start()
    yield proxies
    for proxy in (proxies.database, proxies.broker, proxies.redis):
        proxy.close()


@pytest.fixture(scope="module")
def api(paths: Proxies) -> Iterator[str]:
    with api_process(**paths.urls()) as base_url:
        yield base_url


@pytest.fixture
def database(paths: Proxies, faults: Proxies) -> Iterator[FaultProxy]:
    """The API process's path to PostgreSQL, healed after each test (``faults`` holds the test to ``make faults``)."""
    paths.database.heal()
    yield paths.database
    paths.database.heal()


def _thread(api: str, owner: Person) -> str:
    response = httpx2.post(f"{api}/threads", json={"title": "Outage", "participant_ids": []}, headers=owner.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _requests(api: str, person: Person, thread_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Reads and writes that each need the database (the bearer token's session is checked there too)."""
    return [
        ("GET", f"{api}/threads", None),
        ("GET", f"{api}/threads/{thread_id}/messages", None),
        ("POST", f"{api}/threads/{thread_id}/messages", {"body": "during the outage"}),
        ("GET", f"{api}/accounts/me", None),
    ]


def _send(person: Person, method: str, url: str, body: dict[str, Any] | None) -> tuple[httpx2.Response, float]:
    return timed(lambda: httpx2.request(method, url, json=body, headers=person.headers, timeout=30))


def _assert_unavailable(response: httpx2.Response, elapsed: float, within: float) -> None:
    assert response.status_code == 503, f"{response.status_code} {response.text}"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "detail": "the database is unavailable; try again shortly",
        "code": "database_unavailable",
    }
    assert int(response.headers["retry-after"]) >= 1
    assert elapsed < within, f"answered after {elapsed:.2f} s"


def _serves_again(api: str, person: Person, thread_id: str) -> float:
    """Seconds from the heal until a post succeeds on the same process (no restart), checked again right after."""
    healed_at = time.monotonic()
    until(
        lambda: _send(person, "POST", f"{api}/threads/{thread_id}/messages", {"body": "after"})[0].status_code == 201,
        timeout=10,
    )
    recovered = time.monotonic() - healed_at
    for method, url, body in _requests(api, person, thread_id):
        response, _ = _send(person, method, url, body)
        assert response.status_code in (200, 201), response.text
    return recovered


def test_a_database_cut_answers_503_at_once_and_the_api_serves_again_after_it(api: str, database: FaultProxy) -> None:
    ada = make_person("Ada Lovelace")
    thread_id = _thread(api, ada)
    database.cut()
    slowest = 0.0
    for method, url, body in _requests(api, ada, thread_id) * 2:  # pooled connections reset, then new ones refused
        response, elapsed = _send(ada, method, url, body)
        _assert_unavailable(response, elapsed, CUT_ANSWER_SECONDS)
        slowest = max(slowest, elapsed)
    database.heal()
    recovered = _serves_again(api, ada, thread_id)
    assert recovered < HEALED_WITHIN_SECONDS
    print(f"\ndatabase cut: 503 within {slowest:.2f} s; serving again {recovered:.2f} s after the heal")


def test_a_database_partition_answers_503_within_the_timeout_and_heals(api: str, database: FaultProxy) -> None:
    ada = make_person("Ada Lovelace")
    thread_id = _thread(api, ada)
    requests = _requests(api, ada, thread_id) * 2
    database.partition()
    slowest = 0.0
    for _ in range(2):  # first on pooled connections that fall silent, then on new ones that cannot connect
        with ThreadPoolExecutor(len(requests)) as pool:
            answers = list(pool.map(lambda request: _send(ada, *request), requests))
        for response, elapsed in answers:
            _assert_unavailable(response, elapsed, PARTITION_ANSWER_SECONDS)
            slowest = max(slowest, elapsed)
    database.heal()
    recovered = _serves_again(api, ada, thread_id)
    assert recovered < HEALED_WITHIN_SECONDS
    print(f"\ndatabase partition: 503 within {slowest:.2f} s; serving again {recovered:.2f} s after the heal")
