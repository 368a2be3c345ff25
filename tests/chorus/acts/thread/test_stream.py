"""Live updates over server-sent events, served by real API processes (one hub in-process, or Redis across two)."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import fastapi.sse
import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from chorus.acts.thread.scenes import stream as stream_scene
from tests.people import Person
from tests.servers import EventStream, api_process
from tests.services import REDIS_URL, needs_redis


@pytest.fixture(scope="module")
def api(worker: Any) -> Iterator[str]:
    with api_process() as base_url:
        yield base_url


def _start_thread(base: str, owner: Person, *others: Person) -> str:
    body = {"title": "Live", "participant_ids": [str(p.id) for p in others]}
    response = httpx2.post(f"{base}/threads", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _post(base: str, person: Person, thread_id: str, body: str) -> dict[str, Any]:
    response = httpx2.post(f"{base}/threads/{thread_id}/messages", json={"body": body}, headers=person.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _subscribe(base: str, person: Person, thread_id: str, last_event_id: str | None = None) -> EventStream:
    headers = person.headers | ({"Last-Event-ID": last_event_id} if last_event_id else {})
    stream = EventStream(f"{base}/threads/{thread_id}/events", headers)
    assert stream.status == 200
    return stream


def test_every_kind_of_event_arrives_in_order(api: str, register: Any) -> None:
    ada, bob, cy = register("Ada Lovelace"), register("Bob Babbage"), register("Cy Young")
    thread_id = _start_thread(api, ada, bob)
    stream = _subscribe(api, bob, thread_id)
    owners_stream = _subscribe(api, ada, thread_id)

    message = _post(api, ada, thread_id, "hello")
    message_url = f"{api}/threads/{thread_id}/messages/{message['id']}"
    assert httpx2.patch(message_url, json={"body": "hello!"}, headers=ada.headers).status_code == 200
    assert httpx2.delete(message_url, headers=ada.headers).status_code == 204
    participants = f"{api}/threads/{thread_id}/participants"
    assert httpx2.post(participants, json={"user_id": str(cy.id)}, headers=ada.headers).status_code == 201
    assert httpx2.delete(f"{participants}/{cy.id}", headers=ada.headers).status_code == 204

    events = stream.take(5)
    assert [e["event"] for e in events] == [
        "message.created",
        "message.edited",
        "message.deleted",
        "participant.added",
        "participant.removed",
    ]
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids)
    assert len(set(ids)) == 5
    created = json.loads(events[0]["data"])
    assert created == message
    assert [e["id"] for e in owners_stream.take(5)] == [e["id"] for e in events]
    assert json.loads(events[1]["data"])["body"] == "hello!"
    assert json.loads(events[3]["data"])["user_id"] == str(cy.id)


def test_a_subscriber_resumes_from_last_event_id_without_loss(api: str, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread_id = _start_thread(api, ada, bob)
    first = _subscribe(api, bob, thread_id)
    _post(api, ada, thread_id, "one")
    seen = first.take(1)[0]

    # Bob is away while two more arrive, then reconnects with the id of the last event he saw.
    _post(api, ada, thread_id, "two")
    _post(api, ada, thread_id, "three")
    resumed = _subscribe(api, bob, thread_id, last_event_id=seen["id"])
    missed = resumed.take(2)
    assert [json.loads(e["data"])["body"] for e in missed] == ["two", "three"]
    _post(api, ada, thread_id, "four")
    assert json.loads(resumed.take(1)[0]["data"])["body"] == "four"


def test_a_removed_participant_hears_of_it_and_the_stream_ends(api: str, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread_id = _start_thread(api, ada, bob)
    stream = _subscribe(api, bob, thread_id)
    assert httpx2.delete(f"{api}/threads/{thread_id}/participants/{bob.id}", headers=ada.headers).status_code == 204
    removed, end = stream.take(2)
    assert removed["event"] == "participant.removed"
    assert end == {"event": "end", "data": '{"reason":"removed"}'}
    assert stream.next() is None


def test_outsiders_cannot_subscribe(api: str, register: Any) -> None:
    ada, eve = register("Ada Lovelace"), register("Eve Dropper")
    thread_id = _start_thread(api, ada)
    response = httpx2.get(f"{api}/threads/{thread_id}/events", headers=eve.headers)
    assert response.status_code == 404


@needs_redis
def test_an_event_posted_through_one_api_process_reaches_a_subscriber_on_another(worker: Any, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    with api_process(CHORUS_REDIS_URL=REDIS_URL) as one, api_process(CHORUS_REDIS_URL=REDIS_URL) as two:
        thread_id = _start_thread(one, ada, bob)
        stream = _subscribe(two, bob, thread_id)
        time.sleep(0.2)  # let the stream subscribe to Redis, so the event comes live rather than from the log
        posted_at = time.monotonic()
        message = _post(one, ada, thread_id, "across processes")
        event = stream.take(1)[0]
        assert json.loads(event["data"]) == message
        assert time.monotonic() - posted_at < 5


def test_a_stream_whose_replay_finds_no_database_ends_to_resume_instead_of_breaking(
    client: TestClient, register: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer has begun (200, event-stream) when the log is read, so the stream cannot turn into a 503: it ends
    with `unavailable` and the point to resume from, as a lost database found by the soak once broke it instead."""
    ada = register("Ada Lovelace")
    created = client.post("/threads", json={"title": "Replay", "participant_ids": []}, headers=ada.headers)
    thread_id = created.json()["id"]

    async def no_database(*_: Any, **__: Any) -> Any:
        raise OperationalError("SELECT", {}, ConnectionResetError("the database went away"))

    monkeypatch.setattr(stream_scene, "events_after", no_database)
    headers = ada.headers | {"Last-Event-ID": "0"}
    with client.stream("GET", f"/threads/{thread_id}/events", headers=headers) as response:
        assert response.status_code == 200
        lines = [line for line in response.iter_lines() if line and not line.startswith(":")]
    assert lines == ["event: end", 'data: {"reason":"unavailable"}', "id: 0"]


def test_a_quiet_stream_sends_a_keepalive_comment_and_still_delivers(
    client: TestClient, register: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A comment after KEEPALIVE_SECONDS of silence keeps proxies from closing the stream (and finds a client that
    is gone); the stream goes on, and the next event arrives as usual."""
    monkeypatch.setattr(stream_scene, "KEEPALIVE_SECONDS", 0.2)
    ada = register("Ada Lovelace")
    created = client.post("/threads", json={"title": "Quiet", "participant_ids": []}, headers=ada.headers)
    thread_id = created.json()["id"]
    with client.stream("GET", f"/threads/{thread_id}/events", headers=ada.headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        lines = response.iter_lines()
        assert next(lines) == ": ping"
        message = client.post(f"/threads/{thread_id}/messages", json={"body": "hi"}, headers=ada.headers).json()
        frame = list(itertools.islice(filter(_not_a_comment, lines), 3))
    assert frame[:2] == ["event: message.created", f"data: {json.dumps(message, separators=(',', ':'))}"]
    assert frame[2].removeprefix("id: ").isdigit()


def _not_a_comment(line: str) -> bool:
    return bool(line) and not line.startswith(":")


def test_the_stream_is_documented_as_server_sent_events_and_its_errors_as_json(client: TestClient) -> None:
    """The frames are written by the scene, not by FastAPI's SSE layer, so the document says it by hand: the same
    event schema FastAPI gives a generator, and the errors as the JSON bodies they are."""
    responses = client.get("/openapi.json").json()["paths"]["/threads/{thread_id}/events"]["get"]["responses"]
    assert responses["200"]["content"] == {"text/event-stream": {"itemSchema": fastapi.sse._SSE_EVENT_SCHEMA}}
    for status in ("401", "404", "422", "429", "503"):
        assert responses[status]["content"] == {
            "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
        }
