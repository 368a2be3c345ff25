"""Scene ``writing`` of act ``notes``, through the API: the note is stored, then the real worker counts its words."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from {{ package }}.db import task_session
from {{ package }}.models.outbox import OutboxTask
from tests.finished_tasks import FinishedTasks


def test_a_note_is_stored_then_its_words_counted(client: TestClient, finished_tasks: FinishedTasks) -> None:
    response = client.post("/notes", json={"body": "three little words"})
    assert response.status_code == 201, response.text
    note = response.json()
    assert note["body"] == "three little words"
    assert note["word_count"] is None
    deadline = time.monotonic() + 30
    while (read := client.get(f"/notes/{note['id']}").json())["word_count"] is None:
        assert time.monotonic() < deadline, "the worker did not count the words within 30 s"
        time.sleep(0.05)
    assert read["word_count"] == 3
    assert finished_tasks.wait_for("notes.count_words") == "SUCCESS"


def test_the_count_is_queued_in_the_notes_own_transaction(client: TestClient, finished_tasks: FinishedTasks) -> None:
    note = client.post("/notes", json={"body": "kept together"}).json()
    with task_session() as session:
        queued = session.scalars(select(OutboxTask)).one()
    assert (queued.task, queued.args) == ("notes.count_words", [note["id"]])
    assert finished_tasks.wait_for_id(str(queued.id)) == "SUCCESS"


@pytest.mark.parametrize(
    "payload",
    [{}, {"body": ""}, {"body": 3}, {"body": "x" * 10_001}, {"body": "fine", "title": "unexpected"}],
    ids=["missing", "empty", "not-text", "too-long", "unknown-field"],
)
def test_an_invalid_note_is_refused(client: TestClient, payload: dict[str, Any]) -> None:
    response = client.post("/notes", json=payload)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["detail"].startswith("invalid request: body")


def test_a_body_that_is_not_json_is_refused(client: TestClient) -> None:
    response = client.post("/notes", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
