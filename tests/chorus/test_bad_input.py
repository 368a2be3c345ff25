"""Bad input on every endpoint: an exact 4xx in the error shape, never a 5xx, and nothing changed or lost."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import anyio
import jwt
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chorus.acts.auth.tokens import read_access_token
from chorus.api import app
from chorus.config import get_settings
from chorus.db import sync_engine
from chorus.models import Base, utcnow
from chorus.schema.page import encode_cursor
from tests.conversations import post, start_thread
from tests.people import PASSWORD, Mailbox, Person, log_in

JSON = {"Content-Type": "application/json"}
HUGE = "x" * 100_000
MIB = 1024 * 1024
TOKEN = "t" * 43  # well-formed but issued to nobody
NOT_COVERED = {("GET", "/health"), ("GET", "/ready")}  # they take no input
GHOST = "01a218d7-4dec-72e6-b9c7-2df53b2c3dee"  # a well-formed id of nobody and nothing

THREAD = "/threads/{thread_id}"
PARTICIPANTS = "/threads/{thread_id}/participants"
MESSAGES = "/threads/{thread_id}/messages"
MESSAGE = "/threads/{thread_id}/messages/{message_id}"
EVENTS = "/threads/{thread_id}/events"  # an infinite stream once accepted: see ``HangUpOnAStream``


@dataclass
class Case:
    """One bad request: what is sent, and the answer it must get."""

    method: str
    path: str  # as the OpenAPI document spells it
    label: str
    request: dict[str, Any] = field(default_factory=dict)  # keyword arguments of ``client.request``
    status: int = 422
    code: str = "validation_error"
    says: tuple[str, ...] = ()  # what the detail must mention, e.g. the field's name
    field: str | None = None  # the field a validation error must point at
    url: str | None = None  # the path actually requested; ``{me}``, ``{thread_id}``... name the ``Cast``'s ids

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.label}"


def assert_error(response: Response, case: Case) -> None:
    assert response.status_code < 500, response.text
    assert response.status_code == case.status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert isinstance(body, dict)
    assert isinstance(body.get("detail"), str), body
    assert body["detail"].strip(), body
    assert body.get("code") == case.code, body
    for words in case.says:
        assert words in body["detail"], body
    if case.code == "validation_error":
        assert isinstance(body.get("errors"), list), body
        assert body["errors"], body
        assert all({"loc", "msg", "type"} <= set(error) for error in body["errors"]), body
        if case.field:
            assert any(case.field in error["loc"] for error in body["errors"]), body


def snapshot() -> dict[str, list[str]]:
    """Every row of every table, to show that a refused request changed nothing."""
    with sync_engine().connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(table.select()))
            for table in Base.metadata.sorted_tables
            if table.name != "rate_limit_counters"  # refused requests count against rate limits, by design
        }


# Validation cases, generated per JSON endpoint from a body it would accept


def json_cases(
    method: str,
    path: str,
    valid: dict[str, Any],
    *,
    required: bool = True,
    optional: tuple[str, ...] = (),
    **specific: tuple[str, Any, str],
) -> Iterator[Case]:
    """The bad bodies every JSON endpoint must refuse, then its ``specific`` ones: label=(field, value, says).
    Every field of ``valid`` must be given unless ``required`` is false or the field is ``optional``."""
    yield Case(method, path, "malformed JSON", {"content": b'{"oops": ', "headers": JSON}, says=("malformed JSON",))
    yield Case(method, path, "no body", {}, says=("body",), field="body")
    yield Case(method, path, "JSON null", {"content": b"null", "headers": JSON}, says=("body",), field="body")
    yield Case(method, path, "a list where an object belongs", {"json": [valid]}, says=("body",), field="body")
    yield Case(
        method, path, "an unknown field", {"json": valid | {"nickname": "x"}}, says=("nickname",), field="nickname"
    )
    for name in valid:
        if required and name not in optional:
            rest = {key: value for key, value in valid.items() if key != name}
            yield Case(method, path, f"{name} missing", {"json": rest}, says=(name,), field=name)
        yield Case(method, path, f"{name} a number", {"json": valid | {name: 12345}}, says=(name,), field=name)
        yield Case(method, path, f"{name} an object", {"json": valid | {name: {"a": 1}}}, says=(name,), field=name)
        yield Case(method, path, f"{name} a list", {"json": valid | {name: ["x"]}}, says=(name,), field=name)
        yield Case(
            method, path, f"{name} of 100,000 characters", {"json": valid | {name: HUGE}}, says=(name,), field=name
        )
    for label, (name, value, says) in specific.items():
        yield Case(
            method, path, label.replace("_", " "), {"json": valid | {name: value}}, says=(name, says), field=name
        )


PAGE = {"X-Chorus-Browser": "1"}  # what the web client sends to /auth/browser


def login(label: str, request: dict[str, Any], name: str, *says: str) -> Case:
    return Case("POST", "/auth/token", label, request, says=(name, *says), field=name)


def query(url: str, label: str, name: str, *says: str) -> Case:
    path = "/accounts" if url.startswith("/accounts?") or url == "/accounts" else "/accounts/{account_id}"
    return Case("GET", path, label, url=url, says=(name, *says), field=name)


def refused(method: str, path: str, url: str, label: str, name: str, *says: str, **request: Any) -> Case:
    """A request whose URL or headers hold the bad input: the parameter ``name``."""
    return Case(method, path, label, request, url=url, says=(name, *says), field=name)


BAD_IDS = {
    "that is not a UUID": "not-a-uuid",
    "that is a number": "123",
    "that is a UUID with a tail": "{%s}0",
    "of 5,000 characters": "1" * 5000,
}


def bad_ids(name: str) -> Iterator[Case]:
    """Ids that are not UUIDs in the path parameter ``name``, on every endpoint that has it, with the rest of
    the request as the endpoint would accept it."""
    for (method, path), request in AUTHENTICATED.items():
        if f"{{{name}}}" in path:
            for label, bad in BAD_IDS.items():
                url = path.replace(f"{{{name}}}", bad.replace("%s", name))
                yield refused(method, path, url, f"a {name} {label}", name, "valid UUID", **request)


def paging(path: str, cursor: str, most: int, **forged: str) -> Iterator[Case]:
    """A list's bad paging: ``forged`` cursors (label=cursor), a cursor too long, and limits out of 1..``most``."""
    for label, value in forged.items():
        yield Case(
            "GET",
            path,
            label.replace("_", " "),
            {"params": {cursor: value}},
            code="invalid_cursor",
            says=(f"{cursor}:",),
        )
    yield refused("GET", path, path, f"a {cursor} of 201 characters", cursor, "at most 200", params={cursor: "x" * 201})
    for label, limit, says in (
        ("limit 0", "0", "greater than or equal to 1"),
        ("a negative limit", "-1", "greater than or equal to 1"),
        (f"limit {most + 1}", str(most + 1), f"less than or equal to {most}"),
        ("a huge limit", f"1{'0' * 30}", f"less than or equal to {most}"),
        ("a limit that is not a number", "ten", "integer"),
    ):
        yield refused("GET", path, path, label, "limit", says, params={"limit": limit})


# Each authenticated endpoint, with input it would otherwise accept (its ids are the ``Cast``'s).
AUTHENTICATED: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/auth/password/change"): {"json": {"current_password": PASSWORD, "new_password": "a brand new password"}},
    ("GET", "/accounts/me"): {},
    ("PATCH", "/accounts/me"): {"json": {"display_name": "Mallory"}},
    ("DELETE", "/accounts/me"): {"json": {"password": PASSWORD}},
    ("GET", "/auth/sessions"): {},
    ("DELETE", "/auth/sessions/{session_id}"): {},
    ("GET", "/accounts"): {"params": {"q": "ada"}},
    ("GET", "/accounts/{account_id}"): {},
    ("POST", "/threads"): {"json": {"title": "Mallory's", "participant_ids": ["{bob}"]}},
    ("GET", "/threads"): {},
    ("GET", THREAD): {},
    ("PATCH", THREAD): {"json": {"title": "Mallory's"}},
    ("POST", PARTICIPANTS): {"json": {"user_id": "{cy}"}},
    ("DELETE", "/threads/{thread_id}/participants/{user_id}"): {},
    ("POST", MESSAGES): {"json": {"body": "Mallory was here."}},
    ("GET", MESSAGES): {},
    ("PATCH", MESSAGE): {"json": {"body": "Mallory was here."}},
    ("DELETE", MESSAGE): {},
    ("POST", "/threads/{thread_id}/read"): {"json": {"message_id": "{message_id}"}},
    ("GET", EVENTS): {},
}

REGISTRATION = {"email": "newcomer@example.com", "password": PASSWORD, "display_name": "Newcomer"}
NEW_THREAD = {"title": "Lunch", "participant_ids": ["{bob}"]}
MESSAGE_BODY = {
    "an_empty_body": ("body", "", "at least 1"),
    "a_body_of_10_001_characters": ("body", "x" * 10_001, "at most 10000"),
    "a_null_body": ("body", None, "valid string"),
    "a_NUL_in_the_body": ("body", "See you\x00 at noon.", "control characters"),
    "a_bell_in_the_body": ("body", "See you at noon.\x07", "control characters"),
    "an_escape_sequence_in_the_body": ("body", "\x1b[2JSee you at noon.", "control characters"),
    "a_vertical_tab_in_the_body": ("body", "See you\x0bat noon.", "control characters"),
    "a_form_feed_in_the_body": ("body", "See you\x0cat noon.", "control characters"),
    "a_DEL_in_the_body": ("body", "See you\x7f at noon.", "control characters"),
    "a_C1_control_in_the_body": ("body", "See you\x9b at noon.", "control characters"),
}

VALIDATION_CASES: list[Any] = [
    *json_cases(
        "POST",
        "/auth/register",
        REGISTRATION,
        an_invalid_email=("email", "not-an-email", "valid email"),
        an_email_without_a_domain=("email", "grace@", "valid email"),
        a_password_of_9_characters=("password", "ninechars", "at least 12"),
        a_NUL_in_the_password=("password", "correct\x00horse battery", "control characters"),
        a_blank_display_name=("display_name", "   ", "at least 1"),
        a_display_name_with_control_characters=("display_name", "Ada\x07", "control characters"),
    ),
    *json_cases("POST", "/auth/verify", {"token": TOKEN}, a_short_token=("token", "abc", "at least 16")),
    *json_cases(
        "POST",
        "/auth/verify/resend",
        {"email": "grace@example.com"},
        an_invalid_email=("email", "grace@@example.com", "valid email"),
    ),
    *json_cases(
        "POST", "/auth/refresh", {"refresh_token": TOKEN}, a_short_token=("refresh_token", "abc", "at least 16")
    ),
    *json_cases("POST", "/auth/logout", {"refresh_token": TOKEN}, a_short_token=("refresh_token", "", "at least 16")),
    *json_cases(
        "POST",
        "/auth/password/forgot",
        {"email": "grace@example.com"},
        an_invalid_email=("email", "grace at example.com", "valid email"),
    ),
    *json_cases(
        "POST",
        "/auth/password/reset",
        {"token": TOKEN, "new_password": "a brand new password"},
        a_short_token=("token", "abc", "at least 16"),
        a_new_password_of_9_characters=("new_password", "ninechars", "at least 12"),
    ),
    *json_cases(
        "POST",
        "/auth/password/change",
        {"current_password": PASSWORD, "new_password": "a brand new password"},
        an_empty_current_password=("current_password", "", "at least 1"),
        a_new_password_of_9_characters=("new_password", "ninechars", "at least 12"),
    ),
    *json_cases(
        "PATCH",
        "/accounts/me",
        {"display_name": "Ada King", "bio": "Analyst of engines."},
        required=False,
        a_blank_display_name=("display_name", " \t ", "at least 1"),
        a_display_name_with_control_characters=("display_name", "Ada\x1b[2J", "control characters"),
        a_display_name_of_81_characters=("display_name", "x" * 81, "at most 80"),
        a_bio_of_501_characters=("bio", "x" * 501, "at most 500"),
        a_NUL_in_the_bio=("bio", "Analyst\x00of engines.", "control characters"),
    ),
    Case(
        "PATCH",
        "/accounts/me",
        "a null display name",
        {"json": {"display_name": None, "bio": "Analyst of engines."}},
        says=("display_name", "cannot be null"),
        field="display_name",
    ),
    # The OAuth2 password flow takes a form. It ignores fields it does not know: OAuth2 clients send `scope`,
    # `client_id` and others with it, so an unknown field is not a case here.
    login("no body", {}, "username", "password"),
    login("JSON instead of a form", {"json": {"username": "a@example.com", "password": PASSWORD}}, "username"),
    login("username missing", {"data": {"password": PASSWORD}}, "username"),
    login("password missing", {"data": {"username": "a@example.com"}}, "password"),
    login("an empty password", {"data": {"username": "a@example.com", "password": ""}}, "password"),
    login("a username of 100,000 characters", {"data": {"username": HUGE, "password": PASSWORD}}, "username", "254"),
    login("a password of 100,000 characters", {"data": {"username": "a@", "password": HUGE}}, "password", "128"),
    login("another grant type", {"data": {"username": "a@", "password": "x", "grant_type": "client"}}, "grant_type"),
    login("a NUL in the username", {"data": {"username": "a\x00@example.com", "password": PASSWORD}}, "username"),
    Case(
        "POST",
        "/auth/browser/login",
        "username missing",
        {"data": {"password": PASSWORD}, "headers": PAGE},
        says=("username",),
        field="username",
    ),
    Case(
        "POST",
        "/auth/browser/login",
        "an empty password",
        {"data": {"username": "a@", "password": ""}, "headers": PAGE},
        says=("password",),
        field="password",
    ),
    *(
        Case(
            "POST",
            f"/auth/browser/{name}",
            "without the page's header",
            {"data": {"username": "a@", "password": "x"}},
            status=403,
            code="browser_header_required",
            says=("X-Chorus-Browser",),
        )
        for name in ("login", "refresh", "logout")
    ),
    *(
        refused(
            "POST",
            f"/auth/browser/{name}",
            f"/auth/browser/{name}",
            "a cookie of 300 characters",
            "chorus_refresh",
            "at most 200",
            headers=PAGE | {"Cookie": "chorus_refresh=" + "x" * 300},
        )
        for name in ("refresh", "logout")
    ),
    # Query and path parameters.
    query("/accounts", "q missing", "q"),
    query("/accounts?q=", "an empty q", "q", "at least 1"),
    query(f"/accounts?q={'a' * 101}", "a q of 101 characters", "q", "at most 100"),
    query("/accounts?q=ada&limit=0", "limit 0", "limit", "greater than or equal to 1"),
    query("/accounts?q=ada&limit=-1", "a negative limit", "limit", "greater than or equal to 1"),
    query("/accounts?q=ada&limit=51", "limit 51", "limit", "less than or equal to 50"),
    query(f"/accounts?q=ada&limit=1{'0' * 30}", "a huge limit", "limit", "less than or equal to 50"),
    query("/accounts?q=ada&limit=ten", "a limit that is not a number", "limit", "integer"),
    query("/accounts?q=%20%20%20", "a blank q", "q"),
    query("/accounts?q=ada%00", "a NUL in q", "q"),
    query("/accounts/not-a-uuid", "an id that is not a UUID", "account_id", "valid UUID"),
    query("/accounts/123", "a number for an id", "account_id", "valid UUID"),
    query("/accounts/{me}0", "a UUID with a tail", "account_id", "valid UUID"),
    query(f"/accounts/{'1' * 5000}", "an id of 5,000 characters", "account_id", "valid UUID"),
    # Threads.
    *json_cases(
        "POST",
        "/threads",
        NEW_THREAD,
        optional=("participant_ids",),
        a_blank_title=("title", "   ", "at least 1"),
        a_title_of_201_characters=("title", "x" * 201, "at most 200"),
        a_null_title=("title", None, "valid string"),
        a_title_with_control_characters=("title", "Lunch\x1b[2J", "control characters"),
        a_line_break_in_the_title=("title", "Lunch\nat noon", "control characters"),
        a_NUL_in_the_title=("title", "Lun\x00ch", "control characters"),
        participant_ids_not_a_list=("participant_ids", "{bob}", "valid list"),
        null_participant_ids=("participant_ids", None, "valid list"),
        a_participant_id_that_is_not_a_UUID=("participant_ids", ["{bob}", "bob"], "valid UUID"),
        a_number_for_a_participant_id=("participant_ids", [12345], "UUID"),
        participant_ids_of_101_people=("participant_ids", [str(uuid.uuid4()) for _ in range(101)], "at most 100"),
    ),
    Case(
        "POST",
        "/threads",
        "a lone surrogate in the title",
        {"content": b'{"title": "Lun\\ud800ch"}', "headers": JSON},
        says=("title",),
        field="title",
    ),
    Case(
        "POST",
        "/threads",
        "an unknown participant among known ones",
        {"json": NEW_THREAD | {"participant_ids": ["{bob}", GHOST]}},
        code="unknown_participant",
        says=("participant_ids", GHOST),
    ),
    *paging(
        "/threads",
        "cursor",
        100,
        a_cursor_that_is_not_one="not-a-cursor",
        an_empty_cursor="",
        a_NUL_in_the_cursor="a\x00",
        a_cursor_of_the_message_list=encode_cursor(3),
        a_cursor_whose_time_is_not_a_time=encode_cursor("yesterday", GHOST),
        a_cursor_whose_id_is_not_a_UUID=encode_cursor("2026-01-01T00:00:00+00:00", "x"),
        a_cursor_of_nulls=encode_cursor(None, None),
    ),
    Case(
        "GET",
        "/threads",
        "a cursor whose time has no timezone",
        {"params": {"cursor": encode_cursor("2026-01-01T00:00:00", GHOST)}},
        code="invalid_cursor",
        says=("cursor:",),
    ),
    Case(
        "GET",
        "/threads",
        "a cursor whose time is before the year 1 in UTC",
        {"params": {"cursor": encode_cursor("0001-01-01T00:00:00+01:00", GHOST)}},
        code="invalid_cursor",
        says=("cursor:",),
    ),
    Case(
        "GET",
        "/threads",
        "a cursor whose id is a number",
        {"params": {"cursor": encode_cursor("2026-01-01T00:00:00+00:00", 5)}},
        code="invalid_cursor",
        says=("cursor:",),
    ),
    *bad_ids("thread_id"),
    *json_cases(
        "PATCH",
        THREAD,
        {"title": "Dinner"},
        a_blank_title=("title", " \t ", "at least 1"),
        a_title_of_201_characters=("title", "x" * 201, "at most 200"),
        a_null_title=("title", None, "valid string"),
        a_title_with_control_characters=("title", "Dinner\x07", "control characters"),
        a_line_break_in_the_title=("title", "Dinner\r\nat eight", "control characters"),
    ),
    *json_cases(
        "POST", PARTICIPANTS, {"user_id": "{cy}"}, a_user_id_that_is_not_a_UUID=("user_id", "cy", "valid UUID")
    ),
    Case(
        "POST", PARTICIPANTS, "a null user id", {"json": {"user_id": None}}, says=("user_id", "UUID"), field="user_id"
    ),
    Case(
        "POST",
        PARTICIPANTS,
        "an unknown user",
        {"json": {"user_id": GHOST}},
        code="unknown_participant",
        says=("user_id", GHOST),
    ),
    *bad_ids("user_id"),
    # Messages.
    *json_cases("POST", MESSAGES, {"body": "See you at noon."}, **MESSAGE_BODY),
    *json_cases("PATCH", MESSAGE, {"body": "See you at one."}, **MESSAGE_BODY),
    *(
        Case(
            method,
            path,
            "a lone surrogate in the body",
            {"content": b'{"body": "\\ud800"}', "headers": JSON},
            says=("body",),
            field="body",
        )
        for method, path in (("POST", MESSAGES), ("PATCH", MESSAGE))
    ),
    *(
        Case(method, path, "a blank body", {"json": {"body": " \n\t "}}, says=("body",), field="body")
        for method, path in (("POST", MESSAGES), ("PATCH", MESSAGE))
    ),
    *bad_ids("message_id"),
    *paging(
        MESSAGES,
        "before",
        100,
        a_cursor_that_is_not_one="not-a-cursor",
        an_empty_cursor="",
        a_cursor_of_the_thread_list=encode_cursor("2026-01-01T00:00:00+00:00", GHOST),
        a_cursor_of_text=encode_cursor("3"),
        a_cursor_of_a_fraction=encode_cursor(1.5),
        a_cursor_of_null=encode_cursor(None),
    ),
    Case(
        "GET",
        MESSAGES,
        "a cursor beyond 64 bits",
        {"params": {"before": encode_cursor(2**63)}},
        code="invalid_cursor",
        says=("before:",),
    ),
    Case(
        "GET",
        MESSAGES,
        "a cursor of a boolean",
        {"params": {"before": encode_cursor(True)}},
        code="invalid_cursor",
        says=("before:",),
    ),
    *json_cases(
        "POST",
        "/threads/{thread_id}/read",
        {"message_id": "{message_id}"},
        a_message_id_that_is_not_a_UUID=("message_id", "the last one", "valid UUID"),
        a_null_message_id=("message_id", None, "UUID"),
    ),
    refused(
        "GET",
        EVENTS,
        EVENTS,
        "a negative Last-Event-ID",
        "last-event-id",
        "greater than or equal to 0",
        headers={"Last-Event-ID": "-1"},
    ),
    refused(
        "GET",
        EVENTS,
        EVENTS,
        "a Last-Event-ID that is not a number",
        "last-event-id",
        "integer",
        headers={"Last-Event-ID": "five"},
    ),
    refused(
        "GET",
        EVENTS,
        EVENTS,
        "a fractional Last-Event-ID",
        "last-event-id",
        "integer",
        headers={"Last-Event-ID": "1.5"},
    ),
    refused(
        "GET",
        EVENTS,
        EVENTS,
        "a Last-Event-ID beyond 64 bits",
        "last-event-id",
        headers={"Last-Event-ID": str(2**63)},
    ),
]

# Bodies of over 1 MiB, for every endpoint that takes a body: refused before anything reads them.


def too_large(method: str, path: str, name: str, valid: dict[str, Any], *, form: bool = False) -> Case:
    request = {"data" if form else "json": valid | {name: "x" * MIB}}
    return Case(method, path, f"a {name} of over 1 MiB", request, status=413, code="request_too_large")


TOO_LARGE_CASES = [
    too_large("POST", "/auth/register", "display_name", REGISTRATION),
    too_large("POST", "/auth/verify", "token", {}),
    too_large("POST", "/auth/verify/resend", "email", {}),
    too_large("POST", "/auth/token", "password", {"username": "a@example.com"}, form=True),
    too_large("POST", "/auth/refresh", "refresh_token", {}),
    too_large("POST", "/auth/browser/login", "password", {"username": "a@example.com"}, form=True),
    too_large("POST", "/auth/logout", "refresh_token", {}),
    too_large("POST", "/auth/password/forgot", "email", {}),
    too_large("POST", "/auth/password/reset", "new_password", {"token": TOKEN}),
    too_large("POST", "/auth/password/change", "new_password", {"current_password": PASSWORD}),
    too_large("PATCH", "/accounts/me", "bio", {}),
    too_large("DELETE", "/accounts/me", "password", {}),
    too_large("POST", "/threads", "title", {}),
    too_large("PATCH", THREAD, "title", {}),
    too_large("POST", PARTICIPANTS, "user_id", {}),
    too_large("POST", MESSAGES, "body", {}),
    too_large("PATCH", MESSAGE, "body", {}),
    too_large("POST", "/threads/{thread_id}/read", "message_id", {}),
]


# Who the requests come from, and what their URLs name


@dataclass
class Cast:
    """Ada owns a thread with Bob, in which she wrote a message; Cy is in no thread. Ada sends the requests, so
    that on an endpoint under ``/threads/{thread_id}`` it is the bad input that is refused, not a stranger."""

    ada: Person
    bob: Person
    cy: Person
    thread_id: str
    message_id: str

    def fill(self, value: Any) -> Any:
        """``value`` (a URL, or a request's keyword arguments) with the cast's names spelled as ids: ``{me}`` and
        ``{account_id}`` are Ada, ``{user_id}`` and ``{bob}`` Bob, ``{cy}`` Cy; ``{thread_id}``, ``{message_id}``."""
        if isinstance(value, str):
            for name, id_ in (
                ("{me}", self.ada.id),
                ("{account_id}", self.ada.id),
                ("{user_id}", self.bob.id),
                ("{bob}", self.bob.id),
                ("{cy}", self.cy.id),
                ("{thread_id}", self.thread_id),
                ("{message_id}", self.message_id),
                ("{session_id}", read_access_token(self.ada.access_token).session_id),
            ):
                value = value.replace(name, str(id_))
            return value
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        return value


CAST_SECONDS = 10 * 60  # then a new cast, well before its access tokens' 15 minutes run out
_made: dict[str, Any] = {}  # the cast of this module, when it was made, and every row the API wrote for it


@pytest.fixture
def cast(client: TestClient, register: Callable[..., Person]) -> Cast:
    """The cast, made through the API once (a registration waits for a mail from the worker) and, since every
    test starts from empty tables, put back before each test as the rows the API wrote."""
    if _made and time.monotonic() - _made["at"] < CAST_SECONDS:
        with sync_engine().begin() as connection:
            for table in Base.metadata.sorted_tables:
                if rows := _made["rows"][table.name]:
                    connection.execute(table.insert(), rows)
        again: Cast = _made["cast"]
        return again
    ada, bob, cy = register("Ada Lovelace"), register("Bob Babbage"), register("Cy Young")
    thread = start_thread(client, ada, bob)
    message = post(client, ada, thread["id"], "See you at noon.")
    made = Cast(ada, bob, cy, thread["id"], message["id"])
    with sync_engine().connect() as connection:
        rows = {
            table.name: [dict(row._mapping) for row in connection.execute(table.select())]
            for table in Base.metadata.sorted_tables
        }
    _made.update(cast=made, at=time.monotonic(), rows=rows)
    return made


class HangUpOnAStream:
    """The app, except that an event stream it starts to send ends there: a stream accepted by mistake shows up
    as its 200 instead of keeping the test waiting forever (``TestClient`` waits for the end of a response)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with anyio.CancelScope() as streaming:

            async def send_until_a_stream(message: Message) -> None:
                await send(message)
                if message["type"] == "http.response.start" and any(
                    name.lower() == b"content-type" and value.startswith(b"text/event-stream")
                    for name, value in message["headers"]
                ):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    streaming.cancel()

            await self.app(scope, receive, send_until_a_stream)


@pytest.fixture(scope="module")
def streams(client: TestClient) -> TestClient:
    """A client of the app that hangs up on an event stream, on ``client``'s event loop (that of the database
    pool and the live hub)."""
    hanging_up = TestClient(HangUpOnAStream(app))
    hanging_up.portal = client.portal
    return hanging_up


Ask = Callable[..., Response]


@pytest.fixture
def ask(client: TestClient, streams: TestClient, cast: Cast) -> Ask:
    """Send a request with the cast's ids filled in: ``ask(method, path, url=None, **request)``."""

    def _ask(method: str, path: str, url: str | None = None, **request: Any) -> Response:
        via = streams if path == EVENTS else client
        return via.request(method, cast.fill(url or path), **cast.fill(request))

    return _ask


def _as_ada(case: Case, cast: Cast) -> dict[str, str]:
    """Ada's headers where the endpoint needs a caller, so that it is the input that gets refused."""
    return cast.ada.headers if (case.method, case.path) in AUTHENTICATED else {}


@pytest.mark.parametrize("case", VALIDATION_CASES, ids=str)
def test_bad_input_is_refused_with_a_useful_error_and_changes_nothing(ask: Ask, cast: Cast, case: Case) -> None:
    before = snapshot()
    request = case.request | {"headers": case.request.get("headers", {}) | _as_ada(case, cast)}
    response = ask(case.method, case.path, case.url, **request)
    assert_error(response, case)
    assert snapshot() == before


@pytest.mark.parametrize("case", TOO_LARGE_CASES, ids=str)
def test_a_body_over_1_mib_is_413_and_changes_nothing(ask: Ask, cast: Cast, case: Case) -> None:
    before = snapshot()
    response = ask(case.method, case.path, case.url, headers=_as_ada(case, cast), **case.request)
    assert response.status_code == 413, response.text[:300]
    assert snapshot() == before


@pytest.mark.parametrize(
    "declared",
    [
        pytest.param(True, id="with Content-Length"),
        pytest.param(False, id="streamed"),
    ],
)
def test_a_body_over_1_mib_is_answered_in_the_error_shape(client: TestClient, declared: bool) -> None:
    payload = b'{"token": "' + b"x" * MIB + b'"}'
    content: Any = payload if declared else iter([payload[:100], payload[100:]])
    response = client.post("/auth/verify", content=content, headers=JSON)
    assert_error(response, Case("POST", "/auth/verify", "too large", status=413, code="request_too_large"))


# Bearer tokens that must not let anyone in


def _claims(person: Person, **changes: Any) -> dict[str, Any]:
    now = utcnow()
    claims = {
        "sub": str(person.id),
        "sid": str(uuid.uuid4()),
        "ver": 0,
        "typ": "access",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    return claims | changes


def _signed(claims: dict[str, Any], key: str | None = None) -> str:
    return jwt.encode(claims, key or get_settings().secret_key.get_secret_value(), algorithm="HS256")


BAD_TOKENS: dict[str, Callable[[Person], str | None]] = {
    "no Authorization header": lambda person: None,
    "an empty bearer token": lambda person: "Bearer ",
    "another scheme": lambda person: "Basic YWRhOnBhc3N3b3Jk",
    "a garbage token": lambda person: "Bearer not.a.token",
    "a token of 100,000 characters": lambda person: f"Bearer {HUGE}",
    "an expired token": lambda person: (
        "Bearer " + _signed(_claims(person, iat=utcnow() - timedelta(hours=2), exp=utcnow() - timedelta(hours=1)))
    ),
    "a token signed with another key": lambda person: (
        "Bearer " + _signed(_claims(person), "another-secret-key-that-is-long-enough-0123")
    ),
    "an unsigned token": lambda person: "Bearer " + jwt.encode(_claims(person), None, algorithm="none"),
    "a token with a cut signature": lambda person: f"Bearer {person.access_token[:-6]}",
    "a token that is not an access token": lambda person: "Bearer " + _signed(_claims(person, typ="refresh")),
    "a token without an expiry": lambda person: (
        "Bearer " + _signed({key: value for key, value in _claims(person).items() if key != "exp"})
    ),
    "a token for an unknown account": lambda person: "Bearer " + _signed(_claims(person, sub=str(uuid.uuid4()))),
    "a token of an older session version": lambda person: "Bearer " + _signed(_claims(person, ver=-1)),
}


@pytest.mark.parametrize("token", BAD_TOKENS)
@pytest.mark.parametrize("endpoint", AUTHENTICATED, ids=" ".join)
def test_a_bad_bearer_token_is_401_with_www_authenticate_and_changes_nothing(
    client: TestClient, ask: Ask, cast: Cast, endpoint: tuple[str, str], token: str
) -> None:
    person = cast.ada
    authorization = BAD_TOKENS[token](person)
    method, path = endpoint
    before = snapshot()
    response = ask(
        method, path, headers={"Authorization": authorization} if authorization else {}, **AUTHENTICATED[endpoint]
    )
    assert_error(response, Case(method, path, token, status=401, code="not_authenticated"))
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert snapshot() == before
    assert client.get("/accounts/me", headers=person.headers).json()["display_name"] == "Ada Lovelace"


# Losing nothing, shown the way a person would see it


def test_refused_registrations_leave_the_address_free(client: TestClient, mailbox: Mailbox) -> None:
    email = "grace@example.com"
    refused = [
        {"json": REGISTRATION | {"email": email, "password": "ninechars"}},
        {"json": REGISTRATION | {"email": email, "display_name": HUGE}},
        {"json": REGISTRATION | {"email": email, "nickname": "amazing grace"}},
        {"json": REGISTRATION | {"email": email, "display_name": "x" * MIB}},
        {"content": b'{"email": "grace@example.com", "password": ', "headers": JSON},
    ]
    for request in refused:
        assert client.post("/auth/register", **request).status_code in (413, 422)
    response = client.post("/auth/register", json=REGISTRATION | {"email": email})
    assert response.status_code == 201, response.text
    token = mailbox.token(email, "Verify your email address")
    assert client.post("/auth/verify", json={"token": token}).status_code == 204


def test_a_refused_profile_update_leaves_the_profile_as_it_was(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    client.patch("/accounts/me", json={"bio": "Analyst of engines."}, headers=ada.headers)
    before = client.get("/accounts/me", headers=ada.headers).json()
    for body in (
        {"display_name": "Ada King", "bio": "x" * 501},  # one good field does not go in without the other
        {"display_name": None, "bio": None},
        {"display_name": "Ada King", "nickname": "Ada"},
        {"display_name": HUGE},
    ):
        assert client.patch("/accounts/me", json=body, headers=ada.headers).status_code == 422
    assert client.get("/accounts/me", headers=ada.headers).json() == before


def test_a_refused_password_change_keeps_the_old_password_and_sessions(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    for body in (
        {"current_password": PASSWORD, "new_password": "ninechars"},
        {"current_password": PASSWORD, "new_password": HUGE},
        {"current_password": PASSWORD},
    ):
        assert client.post("/auth/password/change", json=body, headers=ada.headers).status_code == 422
    assert client.post("/auth/refresh", json={"refresh_token": ada.refresh_token}).status_code == 200
    log_in(client, ada.email, PASSWORD)


def test_a_refused_thread_start_leaves_no_thread_behind(client: TestClient, cast: Cast) -> None:
    people = (cast.ada, cast.bob, cast.cy)
    before = [client.get("/threads", headers=person.headers).json() for person in people]
    for body in (
        {"title": "Lunch", "participant_ids": [str(cast.cy.id), GHOST]},  # the known one does not go in alone
        {"title": "Lunch", "participant_ids": [str(cast.cy.id), "cy"]},
        {"title": " ", "participant_ids": [str(cast.cy.id)]},
        {"title": "Lunch", "participant_ids": [str(cast.cy.id)], "nickname": "x"},
    ):
        assert client.post("/threads", json=body, headers=cast.ada.headers).status_code == 422
    assert [client.get("/threads", headers=person.headers).json() for person in people] == before


def test_refused_writes_leave_the_thread_as_its_people_see_it(client: TestClient, cast: Cast) -> None:
    ada, bob = cast.ada, cast.bob
    thread = f"/threads/{cast.thread_id}"
    message = f"{thread}/messages/{cast.message_id}"

    def seen() -> list[Any]:
        return [client.get(url, headers=bob.headers).json() for url in (thread, f"{thread}/messages", "/threads")]

    before = seen()
    for body in (
        {"body": ""},
        {"body": "x" * 10_001},
        {"body": "See you\x00 at noon."},
        {"body": "See you at one.", "nickname": "x"},
        {"body": "x" * MIB},
    ):
        assert client.post(f"{thread}/messages", json=body, headers=ada.headers).status_code in (413, 422)
        assert client.patch(message, json=body, headers=ada.headers).status_code in (413, 422)
    for body in ({"title": ""}, {"title": "x" * 201}, {"title": "Din\nner"}, {"title": "Dinner", "nickname": "x"}):
        assert client.patch(thread, json=body, headers=ada.headers).status_code == 422
    assert client.post(f"{thread}/participants", json={"user_id": GHOST}, headers=ada.headers).status_code == 422
    assert client.post(f"{thread}/read", json={"message_id": "the last one"}, headers=bob.headers).status_code == 422
    assert seen() == before
    # What the rules let through still goes through: line breaks and tabs are part of what people write.
    text = "Noon:\n\tsoup\r\n\tbread"
    assert client.post(f"{thread}/messages", json={"body": text}, headers=ada.headers).status_code == 201
    assert client.get(f"{thread}/messages", headers=bob.headers).json()["items"][0]["body"] == text


# Coverage: an endpoint without bad-input cases fails the suite


def _documented(*, only: Callable[[dict[str, Any]], bool] = lambda operation: True) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
        if only(operation)
    } - NOT_COVERED


def _cases(cases: list[Any]) -> list[Case]:
    return [case.values[0] if hasattr(case, "values") else case for case in cases]


def _assert_covers(covered: set[tuple[str, str]], documented: set[tuple[str, str]], what: str) -> None:
    assert covered == documented, (
        f"endpoints without {what}: {sorted(documented - covered)}; cases for endpoints no longer documented: "
        f"{sorted(covered - documented)}"
    )


def test_every_documented_endpoint_has_bad_input_cases() -> None:
    covered = {(case.method, case.path) for case in _cases(VALIDATION_CASES)} | set(AUTHENTICATED)
    _assert_covers(covered, _documented(), "bad-input cases")


def test_every_authenticated_endpoint_has_bad_token_cases() -> None:
    documented = _documented(only=lambda operation: bool(operation.get("security")))
    _assert_covers(set(AUTHENTICATED), documented, "bad-token cases")


def test_every_endpoint_with_a_body_has_a_too_large_case() -> None:
    documented = _documented(only=lambda operation: "requestBody" in operation)
    _assert_covers({(case.method, case.path) for case in TOO_LARGE_CASES}, documented, "a too-large case")
