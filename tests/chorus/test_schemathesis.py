"""Whole-API robustness: Schemathesis generates requests for every operation of the OpenAPI document.

Every answer must be no server error, a documented status code, a documented content type, and a body that
matches the documented schema. Each example runs as a fresh person (bearer token) who owns a thread with messages
in it, and each path or body field that names a thread, a message or a person is either left as generated (so
mostly unknown) or pointed at one that exists: so the scenes are exercised past their 404s too. Examples are
derandomised, so a run is repeatable; the generated data is not cleaned between examples (``_isolated`` empties
the tables after each operation's test).

Only GET /threads/{thread_id}/events is left out: a 200 there is an endless event stream (the message act's live
tests read it, and the authorisation matrix covers its refusals).

The requests go through the session's ``client`` (the real app, its lifespan, and one event loop): Schemathesis's
own ASGI transport would run the app on a second event loop, where the pooled asyncpg connections and the Redis
hub of the services run do not work.
"""

from __future__ import annotations

import io
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
import urllib3
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from chorus.api import app
from chorus.config import get_settings
from chorus.db import sync_engine
from chorus.models import Message, Participant, Thread, utcnow, uuid7
from tests.people import Mailbox, Person, make_person

MAX_EXAMPLES = 25
BASE_URL = "http://testserver"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Hypothesis keeps caches under ./.hypothesis unless told otherwise: into the run's scratch folder with them.
set_hypothesis_home_dir(get_settings().mail_dir.parent / "hypothesis")

# The worker thread mails (registrations, resets) while Hypothesis draws the next example, and each mail's
# Message-ID comes from the global `random` (email.utils.make_msgid): Hypothesis sees its state move and warns
# that a strategy used `random`. No strategy here does.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies:hypothesis.errors.HypothesisDeprecationWarning"
)

schema = schemathesis.openapi.from_dict(app.openapi()).exclude(path="/threads/{thread_id}/events", method="GET")


class _ThroughTestClient(requests.adapters.HTTPAdapter):
    """Hands each request Schemathesis prepared to the TestClient, and its answer back as a ``requests`` one."""

    def __init__(self, client: TestClient) -> None:
        super().__init__()
        self.client = client

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        # As bytes: HTTP carries a header's value as Latin-1, as `requests` sends it, where the TestClient's own
        # encoding would take ASCII only (and fail on a value a negative case makes up for a header parameter).
        headers = {
            k: v.encode("latin-1") if isinstance(v, str) else v
            for k, v in request.headers.items()
            if k.lower() != "accept-encoding"
        }
        body = request.body.encode() if isinstance(request.body, str) else request.body
        answer = self.client.request(request.method or "GET", request.url or "", headers=headers, content=body)
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(answer.content),
            headers=list(answer.headers.multi_items()),
            status=answer.status_code,
            reason=answer.reason_phrase,
            preload_content=False,
        )
        return self.build_response(request, raw)


def session_for(client: TestClient) -> requests.Session:
    session = requests.Session()
    session.mount("http://", _ThroughTestClient(client))
    return session


@dataclass
class World:
    """Me, owner of a thread where Bob is too, with a message from each of us; Cy is in no thread."""

    me: Person
    bob: Person
    cy: Person
    thread_id: uuid.UUID
    my_message_id: uuid.UUID
    bobs_message_id: uuid.UUID

    def known(self, name: str) -> list[Any]:
        """Values that exist for a field of this name (empty if it names nothing)."""
        people = [self.me.id, self.bob.id, self.cy.id]
        return {
            "thread_id": [self.thread_id],
            "message_id": [self.my_message_id, self.bobs_message_id],
            "user_id": people,
            "account_id": people,
            "participant_ids": [[self.bob.id], [self.bob.id, self.cy.id]],
        }.get(name, [])


def new_world() -> World:
    """Inserted directly (a few milliseconds): a fresh one for every example, so no example spoils the next."""
    me, bob, cy = make_person("Me Myself"), make_person("Bob Babbage"), make_person("Cy Young")
    now = utcnow()
    thread_id, mine, bobs = uuid7(), uuid7(), uuid7()
    with Session(sync_engine()) as session, session.begin():
        session.add(
            Thread(
                id=thread_id,
                title="Lunch",
                owner_id=me.id,
                created_at=now,
                last_activity_at=now,
                last_seq=2,
                last_message_id=bobs,
            )
        )
        session.flush()
        session.add_all(
            [
                Participant(thread_id=thread_id, user_id=me.id, joined_at=now, read_seq=1),
                Participant(thread_id=thread_id, user_id=bob.id, joined_at=now, read_seq=2),
                Message(id=mine, thread_id=thread_id, seq=1, author_id=me.id, body="mine", created_at=now),
                Message(id=bobs, thread_id=thread_id, seq=2, author_id=bob.id, body="Bob's", created_at=now),
            ]
        )
    return World(me, bob, cy, thread_id, mine, bobs)


def aim(case: Any, world: World) -> None:
    """Point some of the generated ids at things that exist.

    The choice is drawn from a generator seeded with the case itself, so a run is repeatable. (``@schema.given``
    would let Hypothesis draw it, but Schemathesis refuses it together with the schema's examples.)
    """
    choose = random.Random(f"{case.method} {case.path} {case.path_parameters!r} {case.query!r} {case.body!r}").choice
    for name in list(case.path_parameters or {}):
        if (known := world.known(name)) and (choice := choose([None, *known])) is not None:
            case.path_parameters[name] = str(choice)
    if isinstance(case.body, dict):
        for name in list(case.body):
            if (known := world.known(name)) and (choice := choose([None, *known])) is not None:
                case.body[name] = [str(v) for v in choice] if isinstance(choice, list) else str(choice)


@pytest.fixture
def worker_drained(client: TestClient, mailbox: Mailbox) -> Iterator[None]:
    """After the test, wait until the worker has run every task the test queued (registration mails, erasures).

    The worker takes tasks one at a time in the order they were queued, so once a reset mail asked for last has
    arrived, nothing the test queued can still write a row or a mail after ``_isolated`` has cleaned up.
    """
    yield
    last = make_person("Last Orders")
    assert client.post("/auth/password/forgot", json={"email": last.email}).status_code == 202
    mailbox.wait_for(last.email, "Reset your password")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_documented(case: Any, client: TestClient, worker_drained: None) -> None:
    world = new_world()
    aim(case, world)
    response = case.call(base_url=BASE_URL, session=session_for(client), headers=world.me.headers)
    case.validate_response(response, checks=CHECKS)


# A body that cannot be parsed at all, for every operation that takes one and does not document 400 (verifying and
# resetting with a mailed token answer 400 for a bad token, so a 400 there is documented, if not apt).
def _unparsable_bodies() -> Iterator[Any]:
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            takes = operation.get("requestBody", {}).get("content", {})
            if not takes or "400" in operation["responses"]:
                continue
            if "application/json" in takes:
                media_type, body, label = "application/json", b'{"title": "\xff"}', "JSON that is not UTF-8"
            else:  # a form
                media_type, body, label = "multipart/form-data", b"username=ada&password=x", "multipart, no boundary"
            yield pytest.param(method.upper(), path, media_type, body, id=f"{method.upper()} {path}: {label}")


UNPARSABLE_BODIES = list(_unparsable_bodies())


@pytest.mark.parametrize(("method", "path", "media_type", "body"), UNPARSABLE_BODIES)
def test_a_body_that_cannot_be_parsed_gets_a_documented_error(
    client: TestClient, method: str, path: str, media_type: str, body: bytes
) -> None:
    world = new_world()
    url = path.format(thread_id=world.thread_id, message_id=world.my_message_id, user_id=world.bob.id)
    response = client.request(method, url, content=body, headers=world.me.headers | {"Content-Type": media_type})
    documented = app.openapi()["paths"][path][method.lower()]["responses"]
    assert 400 <= response.status_code < 500, response.text
    assert str(response.status_code) in documented, (
        f"{response.status_code} {response.text}, documented: {[*documented]}"
    )
    assert response.headers["content-type"] == "application/json", response.text
    assert set(response.json()) >= {"detail", "code"}, response.text
