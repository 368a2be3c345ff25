"""Who may do what under /threads: every endpoint, for the owner, a participant, an outsider and nobody.

Someone who is not a participant gets 404 for a thread and everything under it, with the very answer a thread that
does not exist gets: existence is not revealed. Without a token it is 401 everywhere. A participant may read and
write, but only the owner renames, adds people and removes someone else, and only its author edits or deletes a
message. Every refused request leaves every table as it was.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chorus.api import app
from chorus.db import sync_engine
from chorus.models import Base
from tests.conversations import post, start_thread
from tests.people import Person, make_person

ROLES = ("owner", "participant", "outsider", "anonymous")
# A 200 from GET /threads/{id}/events is an endless text/event-stream: TestClient collects a whole body before it
# returns, so it would wait forever. Those cells are in the matrix, marked, and requested against a real server by
# tests/chorus/acts/thread/test_stream.py (owner and participant subscribe there); the refusals (outsider 404,
# anonymous 401) are answered before the stream starts, so they are requested here.
STREAM = "stream"
REFUSAL_CODES = {401: "not_authenticated", 404: "thread_not_found"}


@dataclass(frozen=True)
class Endpoint:
    """One request under /threads, and what each role gets for it.

    ``url`` and ``body`` may name ``{thread}``, ``{owner_message}``, ``{participant_message}`` (a message the owner,
    resp. the participant, wrote), ``{other}`` (a third participant), ``{outsider}`` and ``{me}`` (the caller; the
    owner when there is no caller).
    """

    method: str
    path: str  # as the OpenAPI document spells it
    label: str
    url: str
    expect: dict[str, int | str]  # role -> status (or STREAM)
    body: dict[str, Any] | None = None
    code_403: str = "not_thread_owner"

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.label}"


def _statuses(owner: int | str, participant: int | str, outsider: int = 404) -> dict[str, int | str]:
    return {"owner": owner, "participant": participant, "outsider": outsider, "anonymous": 401}


THREAD = "/threads/{thread_id}"
MESSAGE = "/threads/{thread_id}/messages/{message_id}"
PARTICIPANT = "/threads/{thread_id}/participants/{user_id}"
ENDPOINTS = [
    Endpoint("POST", "/threads", "start one", "/threads", _statuses(201, 201, 201), {"title": "Mine"}),
    Endpoint("GET", "/threads", "list mine", "/threads", _statuses(200, 200, 200)),
    Endpoint("GET", THREAD, "read", "/threads/{thread}", _statuses(200, 200)),
    Endpoint("PATCH", THREAD, "rename", "/threads/{thread}", _statuses(200, 403), {"title": "Renamed"}),
    Endpoint(
        "POST",
        "/threads/{thread_id}/participants",
        "add the outsider",
        "/threads/{thread}/participants",
        _statuses(201, 403),
        {"user_id": "{outsider}"},
    ),
    Endpoint(
        "DELETE", PARTICIPANT, "remove someone else", "/threads/{thread}/participants/{other}", _statuses(204, 403)
    ),
    Endpoint("DELETE", PARTICIPANT, "leave", "/threads/{thread}/participants/{me}", _statuses(204, 204)),
    Endpoint(
        "POST",
        "/threads/{thread_id}/messages",
        "post",
        "/threads/{thread}/messages",
        _statuses(201, 201),
        {"body": "Hi"},
    ),
    Endpoint("GET", "/threads/{thread_id}/messages", "list", "/threads/{thread}/messages", _statuses(200, 200)),
    Endpoint(
        "PATCH",
        MESSAGE,
        "edit the owner's message",
        "/threads/{thread}/messages/{owner_message}",
        _statuses(200, 403),
        {"body": "Edited"},
        code_403="not_message_author",
    ),
    Endpoint(
        "PATCH",
        MESSAGE,
        "edit the participant's message",
        "/threads/{thread}/messages/{participant_message}",
        _statuses(403, 200),
        {"body": "Edited"},
        code_403="not_message_author",
    ),
    Endpoint(
        "DELETE",
        MESSAGE,
        "delete the owner's message",
        "/threads/{thread}/messages/{owner_message}",
        _statuses(204, 403),
        code_403="not_message_author",
    ),
    Endpoint(
        "DELETE",
        MESSAGE,
        "delete the participant's message",
        "/threads/{thread}/messages/{participant_message}",
        _statuses(403, 204),
        code_403="not_message_author",
    ),
    Endpoint(
        "POST",
        "/threads/{thread_id}/read",
        "mark read",
        "/threads/{thread}/read",
        _statuses(200, 200),
        {"message_id": "{owner_message}"},
    ),
    Endpoint("GET", "/threads/{thread_id}/events", "stream", "/threads/{thread}/events", _statuses(STREAM, STREAM)),
]


def _cells() -> list[Any]:
    cells = []
    for endpoint in ENDPOINTS:
        for role in ROLES:
            expected = endpoint.expect[role]
            if expected != STREAM:
                cells.append(pytest.param(endpoint, role, expected, id=f"{endpoint}-{role}"))
    return cells


@dataclass
class Stage:
    """A thread owned by Ada with Bob and Cy in it, a message from Ada and one from Bob; Eve is in no thread."""

    owner: Person
    participant: Person
    other: Person
    outsider: Person
    thread_id: str
    owner_message: str
    participant_message: str

    def person(self, role: str) -> Person | None:
        return None if role == "anonymous" else getattr(self, role)

    def fill(self, template: str, caller: Person | None, *, thread_id: str | None = None) -> str:
        return template.format(
            thread=thread_id or self.thread_id,
            owner_message=self.owner_message,
            participant_message=self.participant_message,
            other=self.other.id,
            outsider=self.outsider.id,
            me=(caller or self.owner).id,
        )

    def request(self, client: TestClient, endpoint: Endpoint, role: str, *, thread_id: str | None = None) -> Any:
        caller = self.person(role)
        body = None
        if endpoint.body is not None:
            body = {key: self.fill(value, caller) for key, value in endpoint.body.items()}
        return client.request(
            endpoint.method,
            self.fill(endpoint.url, caller, thread_id=thread_id),
            json=body,
            headers=caller.headers if caller else {},
        )


@pytest.fixture
def stage(client: TestClient) -> Stage:
    ada, bob, cy, eve = (make_person(name) for name in ("Ada Lovelace", "Bob Babbage", "Cy Young", "Eve Doe"))
    thread = start_thread(client, ada, bob, cy)
    return Stage(
        owner=ada,
        participant=bob,
        other=cy,
        outsider=eve,
        thread_id=thread["id"],
        owner_message=post(client, ada, thread["id"], "from the owner")["id"],
        participant_message=post(client, bob, thread["id"], "from a participant")["id"],
    )


def snapshot() -> dict[str, list[str]]:
    """Every row of every table, to show that a refused request changed nothing."""
    with sync_engine().connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(table.select()))
            for table in Base.metadata.sorted_tables
            if table.name != "rate_limit_counters"  # refused requests count against rate limits, by design
        }


@pytest.mark.parametrize(("endpoint", "role", "expected"), _cells())
def test_each_role_gets_the_documented_answer(
    client: TestClient, stage: Stage, endpoint: Endpoint, role: str, expected: int
) -> None:
    before = snapshot() if expected >= 400 else None
    response = stage.request(client, endpoint, role)
    assert response.status_code == expected, response.text
    if expected >= 400:
        code = endpoint.code_403 if expected == 403 else REFUSAL_CODES[expected]
        assert response.json()["code"] == code, response.text
        assert snapshot() == before, "a refused request changed something"


def test_the_matrix_covers_every_endpoint_under_threads() -> None:
    """A new endpoint under /threads fails here until it has its row in the matrix."""
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path == "/threads" or path.startswith("/threads/")
        for method in operations
    }
    covered = {(endpoint.method, endpoint.path) for endpoint in ENDPOINTS}
    assert documented - covered == set(), "endpoints without a row in the authorisation matrix"
    assert covered - documented == set(), "rows for endpoints the API does not have"
    assert all(set(endpoint.expect) == set(ROLES) for endpoint in ENDPOINTS)


UNDER_A_THREAD = [endpoint for endpoint in ENDPOINTS if endpoint.path.startswith("/threads/{thread_id}")]


@pytest.mark.parametrize("endpoint", UNDER_A_THREAD, ids=str)
def test_an_outsider_cannot_tell_a_thread_from_one_that_does_not_exist(
    client: TestClient, stage: Stage, endpoint: Endpoint
) -> None:
    real = stage.request(client, endpoint, "outsider")
    missing = stage.request(client, endpoint, "outsider", thread_id=str(uuid.uuid4()))
    assert real.status_code == missing.status_code == 404
    assert real.json() == missing.json() == {"detail": "no such thread", "code": "thread_not_found"}
    assert real.headers["content-type"] == missing.headers["content-type"]


def test_an_outsider_does_not_see_the_thread_in_their_list(client: TestClient, stage: Stage) -> None:
    assert client.get("/threads", headers=stage.outsider.headers).json() == {"items": [], "next_cursor": None}
    assert [t["id"] for t in client.get("/threads", headers=stage.participant.headers).json()["items"]] == [
        stage.thread_id
    ]
