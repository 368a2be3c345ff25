"""Performance by construction: what a request costs in SQL statements does not grow with the page it answers.

Each request's statements are counted where SQLAlchemy hands them to the driver (``before_cursor_execute`` on the
engine the scenes use). Connection set-up (SQLite pragmas, the PostgreSQL pre-ping) and transaction control go
straight to the driver and are not counted: what is counted is the queries a scene writes, one per round trip.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from chorus.db import async_engine
from tests.conversations import post, start_thread
from tests.people import Person, make_person


@contextmanager
def counted() -> Iterator[list[str]]:
    """The SQL statements executed inside the block (the API's requests run them on the scenes' engine)."""
    statements: list[str] = []
    engine = async_engine().sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def cost(client: TestClient, method: str, url: str, person: Person, **kwargs: Any) -> tuple[Any, list[str]]:
    """The response to one request, and the statements it took."""
    client.get("/threads", params={"limit": 1}, headers=person.headers)  # the pool holds a ready connection
    headers = person.headers | kwargs.pop("headers", {})
    with counted() as statements:
        response = client.request(method, url, headers=headers, **kwargs)
    assert response.status_code < 300, response.text
    return response, statements


def explain(statements: list[str]) -> str:
    return "\n".join(f"  {n}. {s[:160]}" for n, s in enumerate(statements, 1))


@pytest.fixture
def ada_and_bob() -> tuple[Person, Person]:
    return make_person("Ada Lovelace"), make_person("Bob Babbage")


def test_listing_my_threads_costs_one_statement_whatever_the_page_size(
    client: TestClient, ada_and_bob: tuple[Person, Person]
) -> None:
    ada, bob = ada_and_bob
    for n in range(60):  # 60 threads, each with a message Ada has not read: unread counts and previews to show
        thread = start_thread(client, ada, bob, title=f"Thread {n}")
        post(client, bob, thread["id"], f"news {n}")

    small, small_cost = cost(client, "GET", "/threads", ada, params={"limit": 2})
    large, large_cost = cost(client, "GET", "/threads", ada, params={"limit": 50})
    cursor = large.json()["next_cursor"]
    rest, rest_cost = cost(client, "GET", "/threads", ada, params={"limit": 50, "cursor": cursor})

    assert len(small.json()["items"]) == 2
    assert len(large.json()["items"]) == 50
    assert len(rest.json()["items"]) == 10
    assert all(t["unread_count"] == 1 and t["last_message"]["body"] for t in large.json()["items"])
    # The current user (by the token's subject) left-joined to the page: threads joined with my participation (read
    # marker for the unread count) and the newest message (the preview), in one SELECT.
    assert len(small_cost) == 1, explain(small_cost)
    assert len(large_cost) == len(small_cost), explain(large_cost)
    assert len(rest_cost) == len(small_cost), explain(rest_cost)


def test_listing_a_page_of_messages_costs_one_statement_whatever_the_page_size(
    client: TestClient, ada_and_bob: tuple[Person, Person]
) -> None:
    ada, bob = ada_and_bob
    thread = start_thread(client, ada, bob)
    for n in range(150):
        post(client, ada if n % 2 else bob, thread["id"], f"message {n}")
    url = f"/threads/{thread['id']}/messages"

    small, small_cost = cost(client, "GET", url, ada, params={"limit": 5})
    large, large_cost = cost(client, "GET", url, ada, params={"limit": 100})
    cursor = large.json()["next_cursor"]
    rest, rest_cost = cost(client, "GET", url, ada, params={"limit": 100, "before": cursor})

    assert len(small.json()["items"]) == 5
    assert len(large.json()["items"]) == 100
    assert len(rest.json()["items"]) == 50
    # The membership check folded into the page: the current user, left-joined to my place in the thread,
    # left-joined to the page of messages, in one SELECT.
    assert len(small_cost) == 1, explain(small_cost)
    assert len(large_cost) == len(small_cost), explain(large_cost)
    assert len(rest_cost) == len(small_cost), explain(rest_cost)


def test_posting_a_message_costs_the_same_in_a_new_thread_and_a_long_one(
    client: TestClient, ada_and_bob: tuple[Person, Person]
) -> None:
    ada, bob = ada_and_bob
    quiet = start_thread(client, ada, bob, title="Quiet")
    busy = start_thread(client, ada, bob, title="Busy")
    for n in range(150):
        post(client, bob, busy["id"], f"message {n}")

    _, first_cost = cost(client, "POST", f"/threads/{quiet['id']}/messages", ada, json={"body": "first"})
    _, later_cost = cost(client, "POST", f"/threads/{busy['id']}/messages", ada, json={"body": "151st"})

    # PostgreSQL: one statement of CTEs that checks my membership, numbers the message and its event, inserts both
    # and moves my read marker and the thread's activity. SQLite (no data-modifying CTEs): 1. number the message and
    # move the thread on, if I am in it (one UPDATE ... RETURNING); 2. INSERT the message; 3. INSERT its event;
    # 4. move my read marker.
    assert len(first_cost) == _PLAIN_POST[async_engine().dialect.name], explain(first_cost)
    assert len(later_cost) == len(first_cost), explain(later_cost)


_PLAIN_POST = {"postgresql": 1, "sqlite": 4}


def test_posting_with_an_idempotency_key_costs_two_statements_more(
    client: TestClient, ada_and_bob: tuple[Person, Person]
) -> None:
    ada, bob = ada_and_bob
    thread = start_thread(client, ada, bob)
    url = f"/threads/{thread['id']}/messages"

    _, plain_cost = cost(client, "POST", url, ada, json={"body": "plain"})
    _, keyed_cost = cost(client, "POST", url, ada, json={"body": "keyed"}, headers={"Idempotency-Key": "k1"})
    _, replay_cost = cost(client, "POST", url, ada, json={"body": "keyed"}, headers={"Idempotency-Key": "k1"})

    # The membership check comes first (a stranger's key is never taken); the key is taken by one INSERT ... ON
    # CONFLICT in the post's own transaction, before the thread is touched; a retry finds it taken there and reads
    # the first answer instead of posting.
    assert len(keyed_cost) == len(plain_cost) + 2, explain(keyed_cost)
    assert "idempotency_keys" in keyed_cost[1], explain(keyed_cost)
    # 1. the membership check; 2. the key, found taken; 3. the first answer.
    assert len(replay_cost) == 3, explain(replay_cost)
