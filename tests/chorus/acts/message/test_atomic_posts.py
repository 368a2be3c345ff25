"""A post is one atomic step: concurrent posts to one thread are numbered 1..N without a gap or a duplicate, each
with its event in the same order, and a post that may not go ahead (a stranger, an unknown thread, an account no
longer live) changes nothing. On PostgreSQL it is one statement outside any transaction."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update

from chorus.db import async_engine, sync_engine
from chorus.models import Message, Participant, Thread, ThreadEvent, User, utcnow
from tests.conversations import start_thread
from tests.people import make_person
from tests.servers import api_process


def _snapshot(thread_id: str) -> dict[str, Any]:
    """Everything a post writes in the thread: its counters, messages, events and read markers."""
    with sync_engine().connect() as connection:
        thread = connection.execute(select(Thread).where(Thread.id == uuid.UUID(thread_id))).one()
        messages = connection.execute(
            select(Message.seq, Message.id, Message.author_id)
            .where(Message.thread_id == thread.id)
            .order_by(Message.seq)
        ).all()
        events = connection.execute(
            select(ThreadEvent.seq, ThreadEvent.type, ThreadEvent.data)
            .where(ThreadEvent.thread_id == thread.id)
            .order_by(ThreadEvent.seq)
        ).all()
        markers = dict(
            connection.execute(
                select(Participant.user_id, Participant.read_seq).where(Participant.thread_id == thread.id)
            ).all()
        )
    return {"thread": tuple(thread), "messages": messages, "events": events, "markers": markers}


def test_concurrent_posts_to_one_thread_are_numbered_without_gaps_and_logged_in_order(client: TestClient) -> None:
    people = [make_person(f"Person {n}") for n in range(4)]
    thread = start_thread(client, *people)
    before = _snapshot(thread["id"])
    posts = 32
    with api_process() as base_url:
        url = f"{base_url}/threads/{thread['id']}/messages"

        def send(n: int) -> httpx2.Response:
            author = people[n % len(people)]
            return httpx2.post(url, json={"body": f"message {n}"}, headers=author.headers, timeout=60)

        with ThreadPoolExecutor(posts) as pool:
            answers = list(pool.map(send, range(posts)))

    assert {a.status_code for a in answers} == {201}, [a.text for a in answers if a.status_code != 201]
    after = _snapshot(thread["id"])
    messages = after["messages"]
    assert [m.seq for m in messages] == list(range(1, posts + 1))
    assert {str(m.id) for m in messages} == {a.json()["id"] for a in answers}
    created = [e for e in after["events"][len(before["events"]) :] if e.type == "message.created"]
    event_seqs = [e.seq for e in created]
    assert event_seqs == list(range(event_seqs[0], event_seqs[0] + posts))  # gapless, one per post
    assert [e.data["id"] for e in created] == [str(m.id) for m in messages]  # the same order as the numbers
    assert {e.data["id"]: e.data for e in created} == {a.json()["id"]: a.json() for a in answers}
    with sync_engine().connect() as connection:
        last_seq, last_message_id = connection.execute(
            select(Thread.last_seq, Thread.last_message_id).where(Thread.id == uuid.UUID(thread["id"]))
        ).one()
    assert (last_seq, last_message_id) == (posts, messages[-1].id)
    for person in people:  # each author has read up to the newest message they wrote
        assert after["markers"][person.id] == max(m.seq for m in messages if m.author_id == person.id)


def test_a_post_that_may_not_go_ahead_changes_nothing(client: TestClient) -> None:
    ada, bob, eve = make_person("Ada Lovelace"), make_person("Bob Babbage"), make_person("Eve Outsider")
    thread = start_thread(client, ada, bob)
    client.post(f"/threads/{thread['id']}/messages", json={"body": "hello"}, headers=bob.headers)
    before = _snapshot(thread["id"])

    stranger = client.post(f"/threads/{thread['id']}/messages", json={"body": "let me in"}, headers=eve.headers)
    unknown = client.post(f"/threads/{uuid.uuid4()}/messages", json={"body": "anyone?"}, headers=ada.headers)
    assert (stranger.status_code, stranger.json()["code"]) == (404, "thread_not_found")
    assert unknown.status_code == 404
    assert unknown.json() == stranger.json()

    with sync_engine().begin() as connection:  # gone while the session check still remembers the token as live
        connection.execute(update(User).where(User.id == ada.id).values(deleted_at=utcnow()))
    gone = client.post(f"/threads/{thread['id']}/messages", json={"body": "from beyond"}, headers=ada.headers)
    assert (gone.status_code, gone.json()["code"]) == (401, "not_authenticated")

    assert _snapshot(thread["id"]) == before


def test_on_postgresql_a_post_is_one_statement_outside_any_transaction(client: TestClient) -> None:
    ada, bob = make_person("Ada Lovelace"), make_person("Bob Babbage")
    thread = start_thread(client, ada, bob)
    url = f"/threads/{thread['id']}/messages"
    client.post(url, json={"body": "warm"}, headers=ada.headers)  # the session check is cached from here on
    seen: list[tuple[str, bool]] = []

    def record(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # After the statement: the driver opens a transaction (if any) as it executes the first statement.
        if async_engine().dialect.name == "postgresql":
            seen.append((statement, connection.connection.driver_connection.is_in_transaction()))

    engine = async_engine().sync_engine
    event.listen(engine, "after_cursor_execute", record)
    try:
        answer = client.post(url, json={"body": "one round trip"}, headers=ada.headers)
    finally:
        event.remove(engine, "after_cursor_execute", record)

    assert answer.status_code == 201, answer.text
    if async_engine().dialect.name == "postgresql":
        assert len(seen) == 1, seen
        statement, in_transaction = seen[0]
        assert statement.lstrip().startswith("WITH"), seen
        assert not in_transaction, "the post ran inside BEGIN ... COMMIT"
