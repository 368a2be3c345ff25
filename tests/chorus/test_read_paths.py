"""The read paths written straight from rows to JSON (a page of messages, my threads) answer exactly what the
pydantic models would, and their statements, built once, are compiled once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, select, update

from chorus.acts.message.scenes.reading import COLUMNS
from chorus.db import async_engine, task_session
from chorus.models import Message, User
from chorus.schema.message import MessageOut
from chorus.schema.page import Page
from chorus.schema.thread import ThreadSummary
from tests.conversations import post, start_thread
from tests.people import make_person


def _as_pydantic_writes(thread_id: str, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` messages as ``MessageOut`` dumps them, from the rows themselves."""
    with task_session() as session:
        rows = session.execute(
            select(*COLUMNS).where(Message.thread_id == uuid.UUID(thread_id)).order_by(Message.seq.desc()).limit(limit)
        ).all()
    return [MessageOut.model_validate(row).model_dump(mode="json") for row in rows]


def test_a_page_of_messages_is_what_the_model_would_write(client: TestClient) -> None:
    ada, bob = make_person("Ada Lovelace"), make_person("Bob Babbage")
    thread = start_thread(client, ada, bob)
    plain = post(client, ada, thread["id"], "plain")
    edited = post(client, ada, thread["id"], "to be edited")
    deleted = post(client, ada, thread["id"], "to be deleted")
    orphan = post(client, bob, thread["id"], "from an account since gone")
    on_the_second = post(client, bob, thread["id"], "written on a whole second")
    url = f"/threads/{thread['id']}/messages"
    assert client.patch(f"{url}/{edited['id']}", json={"body": "edited"}, headers=ada.headers).status_code == 200
    assert client.delete(f"{url}/{deleted['id']}", headers=ada.headers).status_code == 204
    with task_session() as session:  # what the API cannot make on demand: a null author, no microseconds
        session.execute(update(Message).where(Message.id == uuid.UUID(orphan["id"])).values(author_id=None))
        whole = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        session.execute(update(Message).where(Message.id == uuid.UUID(on_the_second["id"])).values(created_at=whole))
        session.commit()

    page = client.get(url, params={"limit": 4}, headers=ada.headers)
    rest = client.get(url, params={"before": page.json()["next_cursor"]}, headers=ada.headers)

    assert page.status_code == rest.status_code == 200
    assert page.headers["content-type"] == "application/json"
    assert page.json()["items"] == _as_pydantic_writes(thread["id"], 4)
    assert rest.json() == {"items": [MessageOut.model_validate(plain).model_dump(mode="json")], "next_cursor": None}
    items = {item["id"]: item for item in page.json()["items"]}
    assert items[edited["id"]]["edited_at"]
    assert items[edited["id"]]["body"] == "edited"
    assert items[deleted["id"]]["deleted_at"]
    assert items[deleted["id"]]["body"] is None
    assert items[orphan["id"]]["author_id"] is None
    assert items[on_the_second["id"]]["created_at"] == "2026-01-02T03:04:05Z"


def test_an_empty_thread_is_an_empty_page_not_a_404(client: TestClient) -> None:
    ada = make_person("Ada Lovelace")
    thread = start_thread(client, ada)
    response = client.get(f"/threads/{thread['id']}/messages", headers=ada.headers)
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


def test_my_threads_are_what_the_model_would_write(client: TestClient) -> None:
    ada, bob = make_person("Ada Lovelace"), make_person("Bob Babbage")
    start_thread(client, ada, bob, title="Quiet")
    for n in range(3):
        busy = start_thread(client, ada, bob, title=f"Busy {n}")
        post(client, bob, busy["id"], "x" * 300)  # the preview is cut

    first = client.get("/threads", params={"limit": 2}, headers=ada.headers)
    rest = client.get("/threads", params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=ada.headers)

    for response in (first, rest):
        assert response.status_code == 200
        body = response.json()
        assert body == Page[ThreadSummary].model_validate(body).model_dump(mode="json")
    items = first.json()["items"] + rest.json()["items"]
    assert [item["title"] for item in items] == ["Busy 2", "Busy 1", "Busy 0", "Quiet"]
    assert rest.json()["next_cursor"] is None
    assert items[-1]["last_message"] is None
    assert items[-1]["unread_count"] == 0
    assert items[0]["unread_count"] == 1
    assert len(items[0]["last_message"]["body"]) == 140
    nobody = make_person("Cy Young")
    assert client.get("/threads", headers=nobody.headers).json() == {"items": [], "next_cursor": None}


def test_the_read_statements_are_compiled_once(client: TestClient) -> None:
    ada = make_person("Ada Lovelace")
    thread = start_thread(client, ada)
    post(client, ada, thread["id"], "hello")
    hits: list[bool] = []

    def record(_conn: Any, _cursor: Any, _statement: str, _parameters: Any, context: Any, _many: bool) -> None:
        hits.append(context.cache_hit == context.dialect.CACHE_HIT)

    requests = [
        ("/threads", {"limit": 1}),
        (f"/threads/{thread['id']}/messages", {"limit": 1}),
        (f"/threads/{thread['id']}/messages", {"limit": 7, "before": "WzJd"}),  # the cursor of seq 2
    ]
    for url, params in requests:  # the first time each statement may be compiled
        assert client.get(url, params=params, headers=ada.headers).status_code == 200
    engine = async_engine().sync_engine
    event.listen(engine, "after_cursor_execute", record)
    try:
        for url, params in requests:
            assert client.get(url, params=params, headers=ada.headers).status_code == 200
    finally:
        event.remove(engine, "after_cursor_execute", record)
    assert hits == [True, True, True]


def test_a_token_whose_account_changed_since_its_session_check_is_refused_by_the_read_itself(
    client: TestClient,
) -> None:
    """The session check is cached for CHORUS_SESSION_CHECK_SECONDS; within that window the page and the list
    still answer 401 for an account deleted or at a newer credential version, from the columns their one statement
    carries, exactly as ``CurrentUser`` answers."""
    ada = make_person("Ada Lovelace")
    thread = start_thread(client, ada)
    paths = ("/threads", f"/threads/{thread['id']}/messages")
    for changed in ({"session_version": User.session_version + 1}, {"deleted_at": datetime.now(UTC)}):
        assert all(client.get(path, headers=ada.headers).status_code == 200 for path in paths)  # checked, cached
        with task_session() as session:
            session.execute(update(User).where(User.id == ada.id).values(**changed))
            session.commit()
        for path in paths:
            refused = client.get(path, headers=ada.headers)
            assert refused.status_code == 401, path
            assert refused.json() == {"detail": "access token no longer valid", "code": "not_authenticated"}
        with task_session() as session:
            session.execute(update(User).where(User.id == ada.id).values(session_version=0, deleted_at=None))
            session.commit()
