"""What an author takes back stays gone: editing or deleting a message scrubs its earlier text from the event log,
so replaying the thread with ``Last-Event-ID: 0`` never brings it back, while the events themselves (and their
numbers) remain for gapless resuming."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chorus.db import sync_engine
from chorus.models import ThreadEvent
from tests.conversations import post, start_thread
from tests.servers import EventStream, api_process


@pytest.fixture(scope="module")
def api(worker: Any) -> Iterator[str]:
    with api_process() as base_url:
        yield base_url


def _logged(thread_id: str) -> list[tuple[int, str, dict[str, Any]]]:
    with sync_engine().connect() as connection:
        rows = connection.execute(
            select(ThreadEvent.seq, ThreadEvent.type, ThreadEvent.data)
            .where(ThreadEvent.thread_id == uuid.UUID(thread_id))
            .order_by(ThreadEvent.seq)
        )
        return [(seq, type_, dict(data)) for seq, type_, data in rows]


def test_deleting_a_message_scrubs_its_body_from_every_logged_event(client: TestClient, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob)
    message = post(client, ada, thread["id"], "my bank PIN is 1234")
    url = f"/threads/{thread['id']}/messages/{message['id']}"
    assert client.patch(url, json={"body": "my bank PIN is 1234, oops"}, headers=ada.headers).status_code == 200
    assert client.delete(url, headers=ada.headers).status_code == 204

    events = _logged(thread["id"])
    assert [type_ for _, type_, _ in events] == ["message.created", "message.edited", "message.deleted"]
    assert [seq for seq, _, _ in events] == [1, 2, 3], "the events and their numbers stay"
    assert "PIN" not in json.dumps([data for _, _, data in events])
    assert all(data["id"] == message["id"] for _, _, data in events)


def test_editing_a_message_scrubs_its_previous_text_and_keeps_the_current_one(
    client: TestClient, register: Any
) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob)
    message = post(client, ada, thread["id"], "first draft")
    other = post(client, bob, thread["id"], "an untouched reply")
    url = f"/threads/{thread['id']}/messages/{message['id']}"
    for body in ("second draft", "final text"):
        assert client.patch(url, json={"body": body}, headers=ada.headers).status_code == 200

    bodies = [(type_, data["id"], data["body"]) for _, type_, data in _logged(thread["id"])]
    assert bodies == [
        ("message.created", message["id"], None),
        ("message.created", other["id"], "an untouched reply"),
        ("message.edited", message["id"], None),
        ("message.edited", message["id"], "final text"),
    ]


def test_a_replay_from_event_zero_never_returns_deleted_or_replaced_text(api: str, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    response = httpx2.post(
        f"{api}/threads", json={"title": "Replay", "participant_ids": [str(bob.id)]}, headers=ada.headers
    )
    assert response.status_code == 201
    thread_id = response.json()["id"]
    messages = f"{api}/threads/{thread_id}/messages"

    edited = httpx2.post(messages, json={"body": "meet at the old mill"}, headers=ada.headers).json()
    assert httpx2.patch(f"{messages}/{edited['id']}", json={"body": "meet at noon"}, headers=ada.headers).is_success
    deleted = httpx2.post(messages, json={"body": "the door code is 4711"}, headers=ada.headers).json()
    assert httpx2.delete(f"{messages}/{deleted['id']}", headers=ada.headers).status_code == 204

    replay = EventStream(f"{api}/threads/{thread_id}/events", bob.headers | {"Last-Event-ID": "0"})
    assert replay.status == 200
    events = replay.take(4)
    assert [e["event"] for e in events] == ["message.created", "message.edited", "message.created", "message.deleted"]
    assert [int(e["id"]) for e in events] == [1, 2, 3, 4]
    replayed = " ".join(e["data"] for e in events)
    assert "old mill" not in replayed
    assert "4711" not in replayed
    assert json.loads(events[1]["data"])["body"] == "meet at noon"
