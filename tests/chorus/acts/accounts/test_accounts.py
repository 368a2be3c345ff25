"""My account, other people's public profiles, finding people, and erasing deleted accounts."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from chorus.acts.accounts.tasks.erasure import erase_deleted_accounts
from chorus.db import sync_engine
from chorus.models import EmailToken, LoginSession, RefreshToken, User, utcnow
from tests.people import PASSWORD, Mailbox, Person, log_in

ERASED_DOMAIN = "@erased.invalid"


def _user(user_id: uuid.UUID) -> dict[str, Any]:
    with sync_engine().connect() as connection:
        row = connection.execute(select(User).where(User.id == user_id)).mappings().one()
        tokens = sum(
            connection.scalar(select(func.count()).select_from(model).where(model.user_id == user_id)) or 0
            for model in (RefreshToken, EmailToken, LoginSession)
        )
    return dict(row) | {"tokens": tokens}


def _wait_until_erased(user_id: uuid.UUID, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        user = _user(user_id)
        if user["email"].endswith(ERASED_DOMAIN):
            return user
        time.sleep(0.05)
    raise AssertionError(f"account {user_id} was not erased within {timeout}s")


def _delete_me(client: TestClient, person: Person, password: str | None = None) -> Any:
    """``DELETE /accounts/me``, confirmed with the person's password (or ``password``)."""
    body = {"password": password if password is not None else person.password}
    return client.request("DELETE", "/accounts/me", json=body, headers=person.headers)


def _mark_deleted(user_id: uuid.UUID) -> None:
    """Delete an account behind the API's back, as if its erase task had been lost."""
    with sync_engine().begin() as connection:
        connection.execute(update(User).where(User.id == user_id).values(deleted_at=utcnow()))


def _find(client: TestClient, person: Person, q: str, **params: Any) -> list[str]:
    response = client.get("/accounts", params={"q": q, **params}, headers=person.headers)
    assert response.status_code == 200, response.text
    return [item["display_name"] for item in response.json()["items"]]


# My account


def test_my_account_shows_my_profile_and_email(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    response = client.get("/accounts/me", headers=ada.headers)
    assert response.status_code == 200
    account = response.json()
    assert account["id"] == str(ada.id)
    assert account["email"] == ada.email
    assert account["display_name"] == "Ada Lovelace"
    assert account["bio"] is None
    assert account["email_verified"] is True
    assert "password" not in str(account)
    assert "hash" not in str(account)


def test_patch_sets_display_name_and_bio(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    body = {"display_name": "Countess of Lovelace", "bio": "Analyst of engines."}
    response = client.patch("/accounts/me", json=body, headers=ada.headers)
    assert response.status_code == 200
    assert {key: response.json()[key] for key in body} == body
    again = client.get("/accounts/me", headers=ada.headers).json()
    assert {key: again[key] for key in body} == body


def test_patch_changes_only_the_fields_it_is_given(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    client.patch("/accounts/me", json={"bio": "First bio."}, headers=ada.headers)
    renamed = client.patch("/accounts/me", json={"display_name": "Ada King"}, headers=ada.headers).json()
    assert (renamed["display_name"], renamed["bio"]) == ("Ada King", "First bio.")
    rebio = client.patch("/accounts/me", json={"bio": "Second bio."}, headers=ada.headers).json()
    assert (rebio["display_name"], rebio["bio"]) == ("Ada King", "Second bio.")
    unchanged = client.patch("/accounts/me", json={}, headers=ada.headers)
    assert unchanged.status_code == 200
    assert (unchanged.json()["display_name"], unchanged.json()["bio"]) == ("Ada King", "Second bio.")


def test_patch_strips_whitespace_around_the_display_name(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    response = client.patch("/accounts/me", json={"display_name": "  Ada King \t"}, headers=ada.headers)
    assert response.status_code == 200
    assert response.json()["display_name"] == "Ada King"
    assert _user(ada.id)["display_name"] == "Ada King"


def test_a_null_display_name_is_422_and_changes_nothing(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    response = client.patch("/accounts/me", json={"display_name": None, "bio": "Lost?"}, headers=ada.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert "display_name" in response.json()["detail"]
    me = client.get("/accounts/me", headers=ada.headers).json()
    assert (me["display_name"], me["bio"]) == ("Ada Lovelace", None)


def test_bio_can_be_cleared_with_null(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    client.patch("/accounts/me", json={"bio": "Analyst of engines."}, headers=ada.headers)
    response = client.patch("/accounts/me", json={"bio": None}, headers=ada.headers)
    assert response.status_code == 200
    assert response.json()["bio"] is None
    assert _user(ada.id)["bio"] is None


# Deleting my account


def test_deleting_my_account_ends_my_access_and_refresh_tokens_at_once(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    assert _delete_me(client, ada).status_code == 204
    me = client.get("/accounts/me", headers=ada.headers)
    assert me.status_code == 401
    assert me.headers["WWW-Authenticate"] == "Bearer"
    assert client.post("/auth/refresh", json={"refresh_token": ada.refresh_token}).status_code == 401
    login = client.post("/auth/token", data={"username": ada.email, "password": PASSWORD})
    assert login.status_code == 401
    _wait_until_erased(ada.id)


def test_the_worker_erases_a_deleted_accounts_personal_data(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    client.patch("/accounts/me", json={"bio": "Analyst of engines."}, headers=ada.headers)
    assert _delete_me(client, ada).status_code == 204
    erased = _wait_until_erased(ada.id)
    assert erased["email"] == f"{ada.id}{ERASED_DOMAIN}"
    assert erased["display_name"] == "Deleted account"
    assert erased["bio"] is None
    assert erased["tokens"] == 0
    assert erased["deleted_at"] is not None


def test_a_deleted_accounts_address_can_be_registered_again(
    client: TestClient, register: Any, mailbox: Mailbox
) -> None:
    ada = register("Ada Lovelace")
    _delete_me(client, ada)
    _wait_until_erased(ada.id)
    body = {"email": ada.email, "password": PASSWORD, "display_name": "Ada Again"}
    again = client.post("/auth/register", json=body)
    assert again.status_code == 201, again.text
    assert again.json()["id"] != str(ada.id)
    token = mailbox.token(ada.email, "Verify your email address", count=2)
    assert client.post("/auth/verify", json={"token": token}).status_code == 204
    me = client.get("/accounts/me", headers={"Authorization": f"Bearer {log_in(client, ada.email)['access_token']}"})
    assert (me.json()["email"], me.json()["display_name"]) == (ada.email, "Ada Again")


# Other people's profiles


def test_a_public_profile_shows_only_id_name_and_bio(client: TestClient, register: Any) -> None:
    ada, grace = register("Ada Lovelace"), register("Grace Hopper")
    client.patch("/accounts/me", json={"bio": "Admiral."}, headers=grace.headers)
    response = client.get(f"/accounts/{grace.id}", headers=ada.headers)
    assert response.status_code == 200
    assert response.json() == {"id": str(grace.id), "display_name": "Grace Hopper", "bio": "Admiral."}


@pytest.mark.parametrize("which", ["unknown", "deleted"])
def test_an_unknown_or_deleted_profile_is_404(client: TestClient, register: Any, which: str) -> None:
    ada, grace = register("Ada Lovelace"), register("Grace Hopper")
    target = uuid.uuid4()
    if which == "deleted":
        assert _delete_me(client, grace).status_code == 204
        target = grace.id
    response = client.get(f"/accounts/{target}", headers=ada.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "account_not_found"
    if which == "deleted":
        _wait_until_erased(grace.id)


# Finding people


def test_lookup_finds_verified_people_by_display_name_prefix_ignoring_case(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    register("Adam Smith")
    register("Grace Hopper")
    assert _find(client, ada, "ADA") == ["Ada Lovelace", "Adam Smith"]
    assert _find(client, ada, "gRaCe h") == ["Grace Hopper"]
    assert _find(client, ada, "Lovelace") == []  # a prefix, not a substring


def test_lookup_finds_people_by_their_whole_email_address_ignoring_case(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    register("Grace Hopper", email="rear.admiral@navy.example")
    response = client.get("/accounts", params={"q": "Rear.Admiral@Navy.example"}, headers=ada.headers)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["display_name"] for item in items] == ["Grace Hopper"]
    assert set(items[0]) == {"id", "display_name", "bio"}  # the email itself is not shown


def test_lookup_leaves_out_unverified_and_deleted_accounts(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    gone = register("Ada Gone")
    unverified = {"email": "ada.unverified@example.com", "password": PASSWORD, "display_name": "Ada Unverified"}
    assert client.post("/auth/register", json=unverified).status_code == 201
    assert _delete_me(client, gone).status_code == 204
    assert _find(client, ada, "ada") == ["Ada Lovelace"]
    assert _find(client, ada, "ada.unverified") == []
    _wait_until_erased(gone.id)
    assert _find(client, ada, "deleted") == []


def test_lookup_answers_at_most_limit_people(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    register("Ada Byron")
    register("Ada King")
    assert len(_find(client, ada, "ada")) == 3
    assert _find(client, ada, "ada", limit=2) == ["Ada Byron", "Ada King"]
    assert len(_find(client, ada, "ada", limit=1)) == 1


def test_lookup_treats_percent_and_underscore_literally(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    for number, name in enumerate(("100% Real", "100 Real", "A_B Person", "AxB Person")):
        register(name, email=f"person{number}@example.com")
    assert _find(client, ada, "100%") == ["100% Real"]
    assert _find(client, ada, "a_") == ["A_B Person"]
    assert _find(client, ada, "%") == []
    assert _find(client, ada, "_") == []


def test_deleting_my_account_without_my_password_is_refused(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    wrong = _delete_me(client, ada, password="not my password at all")
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "wrong_password"
    missing = client.request("DELETE", "/accounts/me", headers=ada.headers)
    assert missing.status_code == 422
    assert client.get("/accounts/me", headers=ada.headers).status_code == 200  # still there


def test_deleting_my_account_ends_my_access_at_once_and_erases_my_sessions(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    assert client.get("/accounts/me", headers=ada.headers).status_code == 200  # the process has cached the session
    assert _delete_me(client, ada).status_code == 204
    refused = client.get("/accounts/me", headers=ada.headers)
    assert refused.status_code == 401
    assert refused.json()["code"] == "not_authenticated"
    assert _wait_until_erased(ada.id)["tokens"] == 0  # refresh tokens, mail tokens and sessions (client, address)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/accounts/me"),
        ("PATCH", "/accounts/me"),
        ("DELETE", "/accounts/me"),
        ("GET", "/accounts?q=ada"),
        ("GET", f"/accounts/{uuid.uuid4()}"),
    ],
)
def test_every_accounts_scene_is_401_without_a_token(client: TestClient, method: str, url: str) -> None:
    response = client.request(method, url, json={"bio": "x"} if method == "PATCH" else None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"] == "not_authenticated"


# The periodic sweep


def test_the_sweep_erases_a_deleted_account_whose_erase_task_never_ran(client: TestClient, register: Any) -> None:
    ada, grace = register("Ada Lovelace"), register("Grace Hopper")
    _mark_deleted(ada.id)
    erase_deleted_accounts.delay()
    erased = _wait_until_erased(ada.id)
    assert (erased["display_name"], erased["bio"], erased["tokens"]) == ("Deleted account", None, 0)
    assert _user(grace.id)["email"] == grace.email  # the living are left alone


def test_the_sweep_is_idempotent(client: TestClient, register: Any) -> None:
    ada, grace = register("Ada Lovelace"), register("Grace Hopper")
    _mark_deleted(ada.id)
    erase_deleted_accounts.delay()
    first = _wait_until_erased(ada.id)
    # Run it again; a second account deleted meanwhile shows when that run has finished.
    _mark_deleted(grace.id)
    erase_deleted_accounts.delay()
    _wait_until_erased(grace.id)
    assert _user(ada.id) == first
