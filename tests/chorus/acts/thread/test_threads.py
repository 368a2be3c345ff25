"""Threads: starting one, listing mine, reading, renaming, and who is in it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conversations import post, start_thread


def test_the_creator_owns_the_thread_and_everyone_named_is_in_it(client: TestClient, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob, title="  Engines  ")
    assert thread["title"] == "Engines"
    assert thread["owner_id"] == str(ada.id)
    members = {p["user_id"]: p for p in thread["participants"]}
    assert set(members) == {str(ada.id), str(bob.id)}
    assert members[str(ada.id)]["is_owner"] is True
    assert client.get(f"/threads/{thread['id']}", headers=bob.headers).json()["participants"] == thread["participants"]


def test_unknown_participant_ids_are_422_and_create_nothing(client: TestClient, register: Any) -> None:
    ada = register()
    response = client.post(
        "/threads",
        json={"title": "Ghosts", "participant_ids": ["01a218d7-4dec-72e6-b9c7-2df53b2c3dee"]},
        headers=ada.headers,
    )
    assert response.status_code == 422
    assert "01a218d7-4dec-72e6-b9c7-2df53b2c3dee" in response.json()["detail"]
    assert client.get("/threads", headers=ada.headers).json() == {"items": [], "next_cursor": None}


def test_my_threads_come_most_recently_active_first_with_unread_counts_and_previews(
    client: TestClient, register: Any
) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    first = start_thread(client, ada, bob, title="First")
    second = start_thread(client, ada, bob, title="Second")
    post(client, bob, first["id"], "news in the first thread " + "x" * 500)
    post(client, bob, first["id"], "and more")

    listed = client.get("/threads", headers=ada.headers).json()
    assert [t["id"] for t in listed["items"]] == [first["id"], second["id"]]
    top = listed["items"][0]
    assert top["unread_count"] == 2
    assert top["last_message"]["body"] == "and more"
    assert top["last_message"]["author_id"] == str(bob.id)
    assert listed["items"][1]["last_message"] is None
    # Bob wrote them, so Bob has read them.
    assert client.get("/threads", headers=bob.headers).json()["items"][0]["unread_count"] == 0


def test_my_threads_page_by_cursor_without_gaps_or_repeats(client: TestClient, register: Any) -> None:
    ada = register()
    made = [start_thread(client, ada, title=f"Thread {n}")["id"] for n in range(7)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/threads", params=params, headers=ada.headers).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))


def test_a_forged_cursor_is_422(client: TestClient, register: Any) -> None:
    ada = register()
    response = client.get("/threads", params={"cursor": "not-a-cursor"}, headers=ada.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cursor"


def test_only_the_owner_renames(client: TestClient, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob)
    refused = client.patch(f"/threads/{thread['id']}", json={"title": "Mine now"}, headers=bob.headers)
    assert refused.status_code == 403
    renamed = client.patch(f"/threads/{thread['id']}", json={"title": "Dinner"}, headers=ada.headers)
    assert renamed.status_code == 200
    assert client.get(f"/threads/{thread['id']}", headers=bob.headers).json()["title"] == "Dinner"


def test_the_owner_adds_people_once(client: TestClient, register: Any) -> None:
    ada, bob, cy = register("Ada Lovelace"), register("Bob Babbage"), register("Cy Young")
    thread = start_thread(client, ada, bob)
    url = f"/threads/{thread['id']}/participants"
    assert client.post(url, json={"user_id": str(cy.id)}, headers=bob.headers).status_code == 403
    added = client.post(url, json={"user_id": str(cy.id)}, headers=ada.headers)
    assert added.status_code == 201
    assert added.json()["user_id"] == str(cy.id)
    again = client.post(url, json={"user_id": str(cy.id)}, headers=ada.headers)
    assert again.status_code == 409
    assert client.get(f"/threads/{thread['id']}", headers=cy.headers).status_code == 200


def test_newcomers_start_with_nothing_unread(client: TestClient, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada)
    post(client, ada, thread["id"], "before Bob came")
    client.post(f"/threads/{thread['id']}/participants", json={"user_id": str(bob.id)}, headers=ada.headers)
    assert client.get(f"/threads/{thread['id']}", headers=bob.headers).json()["unread_count"] == 0


def test_the_owner_removes_people_and_anyone_can_leave(client: TestClient, register: Any) -> None:
    ada, bob, cy = register("Ada Lovelace"), register("Bob Babbage"), register("Cy Young")
    thread = start_thread(client, ada, bob, cy)
    url = f"/threads/{thread['id']}/participants"
    assert client.delete(f"{url}/{cy.id}", headers=bob.headers).status_code == 403
    assert client.delete(f"{url}/{cy.id}", headers=ada.headers).status_code == 204
    assert client.get(f"/threads/{thread['id']}", headers=cy.headers).status_code == 404
    assert client.delete(f"{url}/{bob.id}", headers=bob.headers).status_code == 204
    assert client.get(f"/threads/{thread['id']}", headers=bob.headers).status_code == 404
    assert client.delete(f"{url}/{bob.id}", headers=ada.headers).status_code == 404


def test_when_the_owner_leaves_the_longest_standing_participant_owns_the_thread(
    client: TestClient, register: Any
) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob)
    assert client.delete(f"/threads/{thread['id']}/participants/{ada.id}", headers=ada.headers).status_code == 204
    assert client.get(f"/threads/{thread['id']}", headers=bob.headers).json()["owner_id"] == str(bob.id)
