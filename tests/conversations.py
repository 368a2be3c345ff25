"""Threads and messages in tests, made through the API as a client would: plain helpers."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.people import Person


def start_thread(client: TestClient, owner: Person, *others: Person, title: str = "Lunch") -> dict[str, Any]:
    response = client.post(
        "/threads", json={"title": title, "participant_ids": [str(p.id) for p in others]}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def post(client: TestClient, person: Person, thread_id: str, body: str) -> dict[str, Any]:
    response = client.post(f"/threads/{thread_id}/messages", json={"body": body}, headers=person.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())
