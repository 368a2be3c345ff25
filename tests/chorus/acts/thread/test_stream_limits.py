"""Live streams live no longer than the right to read them, and one person or process cannot open without end."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import jwt
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from chorus.config import get_settings
from chorus.db import sync_engine
from chorus.models import User
from tests.people import Person
from tests.servers import EventStream, api_process

RECHECK_SECONDS = 1


@pytest.fixture(scope="module")
def api(worker: Any) -> Iterator[str]:
    with api_process(CHORUS_STREAM_RECHECK_SECONDS=str(RECHECK_SECONDS)) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def capped(worker: Any) -> Iterator[str]:
    """An API process with room for two streams a person and three in all."""
    with api_process(CHORUS_STREAMS_PER_USER="2", CHORUS_STREAMS_PER_PROCESS="3") as base_url:
        yield base_url


def _start_thread(base: str, owner: Person, *others: Person) -> str:
    body = {"title": "Live", "participant_ids": [str(p.id) for p in others]}
    response = httpx2.post(f"{base}/threads", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _post(base: str, person: Person, thread_id: str, body: str) -> None:
    response = httpx2.post(f"{base}/threads/{thread_id}/messages", json={"body": body}, headers=person.headers)
    assert response.status_code == 201, response.text


def _token_expiring_in(person: Person, seconds: float) -> str:
    """The person's access token, re-signed to expire ``seconds`` from now (every other claim kept)."""
    key = get_settings().secret_key.get_secret_value()
    claims = jwt.decode(person.access_token, key, algorithms=["HS256"])
    claims["exp"] = datetime.now(UTC) + timedelta(seconds=seconds)
    return jwt.encode(claims, key, algorithm="HS256")


def _events(base: str, thread_id: str, token: str, last_event_id: str | None = None) -> EventStream:
    headers = {"Authorization": f"Bearer {token}"} | ({"Last-Event-ID": last_event_id} if last_event_id else {})
    stream = EventStream(f"{base}/threads/{thread_id}/events", headers)
    assert stream.status == 200
    return stream


def _end_reason(event: dict[str, str] | None) -> str:
    assert event is not None, "the stream closed without an end event"
    assert event["event"] == "end", event
    assert "id" not in event, "an end event must not move the client's Last-Event-ID"
    return str(json.loads(event["data"])["reason"])


def _bump_account(person: Person, *, delete: bool) -> None:
    """What deleting the account (or resetting its password) does to it, done in the database."""
    values: dict[str, Any] = {"session_version": User.session_version + 1}
    if delete:
        values["deleted_at"] = datetime.now(UTC)
    with Session(sync_engine()) as session, session.begin():
        session.execute(update(User).where(User.id == person.id).values(**values))


# -- streams that end ---------------------------------------------------------------------------------------------


def test_a_stream_ends_when_its_token_expires_even_on_a_quiet_thread(api: str, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread_id = _start_thread(api, ada, bob)
    opened = time.monotonic()
    stream = _events(api, thread_id, _token_expiring_in(bob, 2))
    _post(api, ada, thread_id, "before expiry")
    assert json.loads(stream.take(1)[0]["data"])["body"] == "before expiry"

    assert _end_reason(stream.next(timeout=10)) == "token_expired"
    assert 1 <= time.monotonic() - opened < 6
    assert stream.next() is None


def test_an_expired_token_gets_nothing_posted_after_its_expiry(api: str, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread_id = _start_thread(api, ada, bob)
    stream = _events(api, thread_id, _token_expiring_in(bob, 2))
    time.sleep(2.2)
    _post(api, ada, thread_id, "after expiry")
    assert _end_reason(stream.next(timeout=10)) == "token_expired"
    assert stream.next() is None


def test_a_participant_who_leaves_hears_of_it_and_gets_no_later_message(api: str, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread_id = _start_thread(api, ada, bob)
    stream = _events(api, thread_id, bob.access_token)
    left = httpx2.delete(f"{api}/threads/{thread_id}/participants/{bob.id}", headers=bob.headers)
    assert left.status_code == 204
    _post(api, ada, thread_id, "after bob left")

    removed = stream.take(1)[0]
    assert removed["event"] == "participant.removed"
    assert _end_reason(stream.next()) == "removed"
    assert stream.next() is None
    # Nor can he resume: the log is no longer his to read.
    again = httpx2.get(
        f"{api}/threads/{thread_id}/events", headers=bob.headers | {"Last-Event-ID": removed["id"]}, timeout=10
    )
    assert again.status_code == 404


def test_a_stream_ends_before_delivering_a_message_posted_after_its_account_was_deleted(
    api: str, register: Any
) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread_id = _start_thread(api, ada, bob)
    stream = _events(api, thread_id, bob.access_token)
    deleted = httpx2.request(
        "DELETE", f"{api}/accounts/me", json={"password": bob.password}, headers=bob.headers, timeout=10
    )
    assert deleted.status_code == 204, deleted.text
    _post(api, ada, thread_id, "bob must not read this")

    assert _end_reason(stream.next(timeout=10)) == "session_ended"
    assert stream.next() is None


def test_a_quiet_stream_ends_within_the_recheck_interval_after_a_password_reset(api: str, register: Any) -> None:
    ada, bob = register("Ada Lovelace"), register("Bob Babbage")
    thread_id = _start_thread(api, ada, bob)
    stream = _events(api, thread_id, bob.access_token)
    reset_at = time.monotonic()
    _bump_account(bob, delete=False)

    assert _end_reason(stream.next(timeout=10)) == "access_revoked"
    assert time.monotonic() - reset_at < RECHECK_SECONDS + 2
    assert stream.next() is None


# -- caps on open streams -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def _open(base: str, person: Person, thread_id: str) -> Iterator[httpx2.Response]:
    """A stream held open for the block, its connection closed at the end of it (as a client going away)."""
    with httpx2.stream("GET", f"{base}/threads/{thread_id}/events", headers=person.headers, timeout=10) as response:
        yield response


def _refused(response: httpx2.Response, code: str) -> None:
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    response.read()
    body = response.json()
    assert body["code"] == code
    assert body["detail"]


def _opens_within(base: str, person: Person, thread_id: str, seconds: float = 5) -> bool:
    """Whether a stream opens again within ``seconds`` (a closed one's slot is given back as the server notices)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with _open(base, person, thread_id) as response:
            if response.status_code == 200:
                return True
        time.sleep(0.1)
    return False


def test_a_person_over_the_per_user_cap_gets_429_and_a_closed_stream_frees_its_slot(capped: str, register: Any) -> None:
    ada = register("Ada Lovelace")
    thread_id = _start_thread(capped, ada)
    with _open(capped, ada, thread_id) as first:
        assert first.status_code == 200
        with _open(capped, ada, thread_id) as second, _open(capped, ada, thread_id) as third:
            assert second.status_code == 200
            _refused(third, "too_many_streams")
        assert _opens_within(capped, ada, thread_id)
    assert _opens_within(capped, ada, thread_id)


def test_the_per_process_cap_refuses_anyone_over_it_until_a_stream_closes(capped: str, register: Any) -> None:
    ada, bob, cy = register("Ada Lovelace"), register("Bob Babbage"), register("Cy Young")
    thread_id = _start_thread(capped, ada, bob, cy)
    with contextlib.ExitStack() as held:
        assert held.enter_context(_open(capped, ada, thread_id)).status_code == 200
        assert held.enter_context(_open(capped, ada, thread_id)).status_code == 200
        assert held.enter_context(_open(capped, bob, thread_id)).status_code == 200
        with _open(capped, cy, thread_id) as refused:
            _refused(refused, "streams_at_capacity")
    assert _opens_within(capped, cy, thread_id)


def test_a_stream_that_ends_by_itself_frees_its_slot(capped: str, register: Any) -> None:
    ada = register("Ada Lovelace")
    thread_id = _start_thread(capped, ada)
    with _open(capped, ada, thread_id) as held:
        assert held.status_code == 200
        expiring = _events(capped, thread_id, _token_expiring_in(ada, 1))
        with _open(capped, ada, thread_id) as over:
            _refused(over, "too_many_streams")
        assert _end_reason(expiring.next(timeout=10)) == "token_expired"
        assert _opens_within(capped, ada, thread_id)


def test_refused_and_unauthenticated_requests_take_no_slot(capped: str, register: Any) -> None:
    ada, eve = register("Ada Lovelace"), register("Eve Dropper")
    thread_id = _start_thread(capped, ada)
    for _ in range(5):
        assert httpx2.get(f"{capped}/threads/{thread_id}/events", headers=eve.headers).status_code == 404
        assert httpx2.get(f"{capped}/threads/{thread_id}/events").status_code == 401
    with _open(capped, eve, thread_id) as outsider:
        assert outsider.status_code == 404
    with _open(capped, ada, thread_id) as one, _open(capped, ada, thread_id) as two:
        assert (one.status_code, two.status_code) == (200, 200)
