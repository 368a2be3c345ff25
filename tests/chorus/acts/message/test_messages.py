"""Messages: posting, pages newest first, editing and deleting my own, and read markers."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conversations import post, start_thread


def _page(client: TestClient, person: Any, thread_id: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/threads/{thread_id}/messages", params=params, headers=person.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_posted_message_is_first_in_the_newest_page(client: TestClient, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob)
    message = post(client, ada, thread["id"], "Hello, Bob.\nLine two.")
    assert message["author_id"] == str(ada.id)
    assert message["body"] == "Hello, Bob.\nLine two."
    assert message["edited_at"] is None
    page = _page(client, bob, thread["id"])
    assert page == {"items": [message], "next_cursor": None}


def test_body_length_is_1_to_10000(client: TestClient, register: Any) -> None:
    ada = register()
    thread = start_thread(client, ada)
    url = f"/threads/{thread['id']}/messages"
    assert client.post(url, json={"body": ""}, headers=ada.headers).status_code == 422
    assert client.post(url, json={"body": "x" * 10_001}, headers=ada.headers).status_code == 422
    assert client.post(url, json={"body": "x" * 10_000}, headers=ada.headers).status_code == 201


def test_pages_walk_back_newest_first_without_gaps(client: TestClient, register: Any) -> None:
    ada = register()
    thread = start_thread(client, ada)
    bodies = [f"message {n}" for n in range(12)]
    for body in bodies:
        post(client, ada, thread["id"], body)
    seen: list[str] = []
    page = _page(client, ada, thread["id"], limit=5)
    while True:
        seen += [m["body"] for m in page["items"]]
        if page["next_cursor"] is None:
            break
        page = _page(client, ada, thread["id"], limit=5, before=page["next_cursor"])
    assert seen == list(reversed(bodies))


def test_pages_hold_at_most_100(client: TestClient, register: Any) -> None:
    ada = register()
    thread = start_thread(client, ada)
    response = client.get(f"/threads/{thread['id']}/messages", params={"limit": 101}, headers=ada.headers)
    assert response.status_code == 422


def test_only_the_author_edits_and_the_edit_is_marked(client: TestClient, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob)
    message = post(client, ada, thread["id"], "teh typo")
    url = f"/threads/{thread['id']}/messages/{message['id']}"
    assert client.patch(url, json={"body": "hijacked"}, headers=bob.headers).status_code == 403
    edited = client.patch(url, json={"body": "the typo"}, headers=ada.headers)
    assert edited.status_code == 200
    assert edited.json()["body"] == "the typo"
    assert edited.json()["edited_at"] is not None
    assert _page(client, bob, thread["id"])["items"][0]["body"] == "the typo"


def test_a_deleted_message_stays_as_a_tombstone_without_its_body(client: TestClient, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob)
    message = post(client, ada, thread["id"], "regrettable")
    post(client, bob, thread["id"], "reply")
    url = f"/threads/{thread['id']}/messages/{message['id']}"
    assert client.delete(url, headers=bob.headers).status_code == 403
    assert client.delete(url, headers=ada.headers).status_code == 204
    assert client.delete(url, headers=ada.headers).status_code == 204
    tombstone = _page(client, bob, thread["id"])["items"][1]
    assert tombstone["id"] == message["id"]
    assert tombstone["body"] is None
    assert tombstone["deleted_at"] is not None
    assert client.patch(url, json={"body": "undo"}, headers=ada.headers).status_code == 409


def test_a_message_of_another_thread_is_404(client: TestClient, register: Any) -> None:
    ada = register()
    one, other = start_thread(client, ada), start_thread(client, ada)
    message = post(client, ada, one["id"], "here")
    response = client.patch(
        f"/threads/{other['id']}/messages/{message['id']}", json={"body": "there"}, headers=ada.headers
    )
    assert response.status_code == 404


def test_the_read_marker_moves_forward_only_and_unread_counts_follow(client: TestClient, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread = start_thread(client, ada, bob)
    messages = [post(client, ada, thread["id"], f"m{n}") for n in range(5)]
    url = f"/threads/{thread['id']}/read"

    def unread() -> int:
        return int(client.get(f"/threads/{thread['id']}", headers=bob.headers).json()["unread_count"])

    assert unread() == 5
    state = client.post(url, json={"message_id": messages[3]["id"]}, headers=bob.headers).json()
    assert state == {"last_read_message_id": messages[3]["id"], "unread_count": 1}
    assert unread() == 1
    back = client.post(url, json={"message_id": messages[0]["id"]}, headers=bob.headers).json()
    assert back == {"last_read_message_id": messages[3]["id"], "unread_count": 1}
    listed = client.get("/threads", headers=bob.headers).json()["items"][0]
    assert listed["unread_count"] == 1
