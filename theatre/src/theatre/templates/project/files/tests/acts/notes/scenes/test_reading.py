"""Scene ``reading`` of act ``notes``, through the API."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.finished_tasks import FinishedTasks


def test_a_written_note_reads_back(client: TestClient, finished_tasks: FinishedTasks) -> None:
    written = client.post("/notes", json={"body": "hello"}).json()
    assert finished_tasks.wait_for("notes.count_words") == "SUCCESS"
    response = client.get(f"/notes/{written['id']}")
    assert response.status_code == 200
    assert response.json() == written | {"word_count": 1}


def test_a_missing_note_is_404(client: TestClient) -> None:
    missing = uuid.uuid4()
    response = client.get(f"/notes/{missing}")
    assert response.status_code == 404
    assert response.json() == {"detail": f"no note {missing}", "code": "note_not_found"}


def test_an_id_that_is_not_a_uuid_is_422(client: TestClient) -> None:
    response = client.get("/notes/not-a-uuid")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
