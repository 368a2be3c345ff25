"""Bad input on every endpoint: an exact 4xx in the error shape, never a 5xx, and nothing changed or lost."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from chorus.api import app
from chorus.config import get_settings
from chorus.db import sync_engine
from chorus.models import Base, utcnow
from tests.stack import PASSWORD, Mailbox, Person, log_in

JSON = {"Content-Type": "application/json"}
HUGE = "x" * 100_000
MIB = 1024 * 1024
TOKEN = "t" * 43  # well-formed but issued to nobody
NOT_COVERED = {("GET", "/health"), ("GET", "/ready")}  # they take no input


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
    url: str | None = None  # the path actually requested; ``{me}`` is the caller's id

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
        }


# Validation cases, generated per JSON endpoint from a body it would accept


def json_cases(
    method: str, path: str, valid: dict[str, Any], *, required: bool = True, **specific: tuple[str, Any, str]
) -> Iterator[Case]:
    """The bad bodies every JSON endpoint must refuse, then its ``specific`` ones: label=(field, value, says)."""
    yield Case(method, path, "malformed JSON", {"content": b'{"oops": ', "headers": JSON}, says=("malformed JSON",))
    yield Case(method, path, "no body", {}, says=("body",), field="body")
    yield Case(method, path, "JSON null", {"content": b"null", "headers": JSON}, says=("body",), field="body")
    yield Case(method, path, "a list where an object belongs", {"json": [valid]}, says=("body",), field="body")
    yield Case(
        method, path, "an unknown field", {"json": valid | {"nickname": "x"}}, says=("nickname",), field="nickname"
    )
    for name in valid:
        if required:
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


def login(label: str, request: dict[str, Any], name: str, *says: str) -> Case:
    return Case("POST", "/auth/token", label, request, says=(name, *says), field=name)


def query(url: str, label: str, name: str, *says: str) -> Case:
    path = "/accounts" if url.startswith("/accounts?") or url == "/accounts" else "/accounts/{account_id}"
    return Case("GET", path, label, url=url, says=(name, *says), field=name)


REGISTRATION = {"email": "newcomer@example.com", "password": PASSWORD, "display_name": "Newcomer"}

VALIDATION_CASES: list[Any] = [
    *json_cases(
        "POST",
        "/auth/register",
        REGISTRATION,
        an_invalid_email=("email", "not-an-email", "valid email"),
        an_email_without_a_domain=("email", "grace@", "valid email"),
        a_password_of_9_characters=("password", "ninechars", "at least 10"),
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
        a_new_password_of_9_characters=("new_password", "ninechars", "at least 10"),
    ),
    *json_cases(
        "POST",
        "/auth/password/change",
        {"current_password": PASSWORD, "new_password": "a brand new password"},
        an_empty_current_password=("current_password", "", "at least 1"),
        a_new_password_of_9_characters=("new_password", "ninechars", "at least 10"),
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
    too_large("POST", "/auth/logout", "refresh_token", {}),
    too_large("POST", "/auth/password/forgot", "email", {}),
    too_large("POST", "/auth/password/reset", "new_password", {"token": TOKEN}),
    too_large("POST", "/auth/password/change", "new_password", {"current_password": PASSWORD}),
    too_large("PATCH", "/accounts/me", "bio", {}),
]


def _caller(case: Case, register: Callable[..., Person]) -> tuple[dict[str, str], str]:
    """A logged-in caller's headers where the endpoint needs one, so it is the input that gets refused; the URL."""
    url = case.url or case.path
    if (case.method, case.path) not in AUTHENTICATED:
        return {}, url
    caller = register("Ada Lovelace")
    return caller.headers, url.replace("{me}", str(caller.id))


@pytest.mark.parametrize("case", VALIDATION_CASES, ids=str)
def test_bad_input_is_refused_with_a_useful_error_and_changes_nothing(
    client: TestClient, register: Callable[..., Person], case: Case
) -> None:
    headers, url = _caller(case, register)
    before = snapshot()
    request = case.request | {"headers": case.request.get("headers", {}) | headers}
    response = client.request(case.method, url, **request)
    assert_error(response, case)
    assert snapshot() == before


@pytest.mark.parametrize("case", TOO_LARGE_CASES, ids=str)
def test_a_body_over_1_mib_is_413_and_changes_nothing(
    client: TestClient, register: Callable[..., Person], case: Case
) -> None:
    headers, url = _caller(case, register)
    before = snapshot()
    response = client.request(case.method, url, headers=headers, **case.request)
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

# Each authenticated endpoint, with input it would otherwise accept.
AUTHENTICATED: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/auth/password/change"): {"json": {"current_password": PASSWORD, "new_password": "a brand new password"}},
    ("GET", "/accounts/me"): {},
    ("PATCH", "/accounts/me"): {"json": {"display_name": "Mallory"}},
    ("DELETE", "/accounts/me"): {},
    ("GET", "/accounts"): {"params": {"q": "ada"}},
    ("GET", "/accounts/{account_id}"): {},
}


@pytest.mark.parametrize("token", BAD_TOKENS)
@pytest.mark.parametrize("endpoint", AUTHENTICATED, ids=" ".join)
def test_a_bad_bearer_token_is_401_with_www_authenticate_and_changes_nothing(
    client: TestClient, register: Callable[..., Person], endpoint: tuple[str, str], token: str
) -> None:
    person = register("Ada Lovelace")
    authorization = BAD_TOKENS[token](person)
    method, path = endpoint
    before = snapshot()
    response = client.request(
        method,
        path.replace("{account_id}", str(person.id)),
        headers={"Authorization": authorization} if authorization else {},
        **AUTHENTICATED[endpoint],
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
