"""Logging in from a page: the refresh token lives only in an HttpOnly cookie scoped to /auth/browser, it rotates
like the API's, and only a request carrying the page's header may use it."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from fastapi.testclient import TestClient

from tests.people import PASSWORD, Person

FROM_A_PAGE = {"X-Chorus-Browser": "1"}


def _log_in(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, object]:
    response = client.post("/auth/browser/login", data={"username": email, "password": password}, headers=FROM_A_PAGE)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _with(refresh_token: str) -> dict[str, str]:
    return {"Cookie": f"chorus_refresh={refresh_token}"}


def _cookie(response_headers: object) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(response_headers.get("set-cookie", ""))  # type: ignore[attr-defined]
    return cookie


def test_a_page_gets_the_access_token_and_the_refresh_token_only_as_an_httponly_cookie(
    client: TestClient, register: object
) -> None:
    person: Person = register()  # type: ignore[operator]
    response = client.post(
        "/auth/browser/login", data={"username": person.email, "password": PASSWORD}, headers=FROM_A_PAGE
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert response.headers["cache-control"] == "no-store"
    morsel = _cookie(response.headers)["chorus_refresh"]
    assert morsel["httponly"]
    assert morsel["samesite"].lower() == "strict"
    assert morsel["path"] == "/auth/browser"
    assert not morsel["secure"]  # plain http here; see the https test below
    assert len(morsel.value) >= 40
    me = client.get("/accounts/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == person.email


def test_the_cookie_is_secure_over_https(client: TestClient, register: object) -> None:
    person: Person = register()  # type: ignore[operator]
    response = client.post(  # the same app and client, asked over https (as a trusted proxy's X-Forwarded-Proto says)
        "https://testserver/auth/browser/login",
        data={"username": person.email, "password": PASSWORD},
        headers=FROM_A_PAGE,
    )
    assert response.status_code == 200
    assert _cookie(response.headers)["chorus_refresh"]["secure"]


@pytest.mark.parametrize("header", [None, "0", "yes"])
def test_without_the_page_header_nothing_is_done(client: TestClient, register: object, header: str | None) -> None:
    person: Person = register()  # type: ignore[operator]
    headers = {"X-Chorus-Browser": header} if header is not None else {}
    login = client.post("/auth/browser/login", data={"username": person.email, "password": PASSWORD}, headers=headers)
    assert login.status_code == 403
    assert login.json()["code"] == "browser_header_required"
    assert "set-cookie" not in login.headers
    _log_in(client, person.email)
    refresh = client.post("/auth/browser/refresh", headers=headers)
    logout = client.post("/auth/browser/logout", headers=headers)
    assert refresh.status_code == logout.status_code == 403
    assert client.post("/auth/browser/refresh", headers=FROM_A_PAGE).status_code == 200  # the session still stands


def test_a_refresh_rotates_the_cookie_and_a_replayed_one_ends_the_session(client: TestClient, register: object) -> None:
    person: Person = register()  # type: ignore[operator]
    _log_in(client, person.email)
    first = client.cookies["chorus_refresh"]
    refreshed = client.post("/auth/browser/refresh", headers=FROM_A_PAGE)
    assert refreshed.status_code == 200
    second = client.cookies["chorus_refresh"]
    assert second != first
    assert client.get(
        "/accounts/me", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    ).is_success

    client.cookies.clear()
    replayed = client.post("/auth/browser/refresh", headers=FROM_A_PAGE | _with(first))  # a copy of the spent one
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "invalid_refresh_token"
    assert 'chorus_refresh=""' in replayed.headers["set-cookie"]  # the dead cookie is dropped
    assert client.post("/auth/browser/refresh", headers=FROM_A_PAGE | _with(second)).status_code == 401  # all ended


def test_refresh_without_a_cookie_says_to_log_in(client: TestClient) -> None:
    response = client.post("/auth/browser/refresh", headers=FROM_A_PAGE)
    assert response.status_code == 401
    assert response.json()["code"] == "not_logged_in"


def test_logout_ends_the_session_and_drops_the_cookie(client: TestClient, register: object) -> None:
    person: Person = register()  # type: ignore[operator]
    access = _log_in(client, person.email)["access_token"]
    response = client.post("/auth/browser/logout", headers=FROM_A_PAGE)
    assert response.status_code == 204
    assert "chorus_refresh" not in client.cookies
    assert client.get("/accounts/me", headers={"Authorization": f"Bearer {access}"}).status_code == 401
    assert client.post("/auth/browser/refresh", headers=FROM_A_PAGE).json()["code"] == "not_logged_in"
    assert client.post("/auth/browser/logout", headers=FROM_A_PAGE).status_code == 204  # nothing left: still done


def test_the_cookie_is_no_credential_for_the_rest_of_the_api(client: TestClient, register: object) -> None:
    person: Person = register()  # type: ignore[operator]
    _log_in(client, person.email)
    response = client.get("/accounts/me", headers=_with(client.cookies["chorus_refresh"]))  # even if it were sent
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_page_login_fails_as_the_api_login_does(client: TestClient, register: object) -> None:
    person: Person = register()  # type: ignore[operator]
    wrong = client.post(
        "/auth/browser/login", data={"username": person.email, "password": "not the password"}, headers=FROM_A_PAGE
    )
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_credentials"
    assert "set-cookie" not in wrong.headers
    email = "unverified@example.com"
    client.post("/auth/register", json={"email": email, "password": PASSWORD, "display_name": "Una"})
    unverified = client.post("/auth/browser/login", data={"username": email, "password": PASSWORD}, headers=FROM_A_PAGE)
    assert unverified.status_code == 401
    assert unverified.json()["code"] == "email_not_verified"
