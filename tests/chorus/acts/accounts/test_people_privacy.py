"""Finding people without harvesting them: emails match only in full, unverified accounts stay out of sight, and
display names are one visible line that cannot impersonate with look-alike letters."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.people import PASSWORD, Person


def _find(client: TestClient, person: Person, q: str) -> list[str]:
    response = client.get("/accounts", params={"q": q}, headers=person.headers)
    assert response.status_code == 200, response.text
    return [item["display_name"] for item in response.json()["items"]]


def test_a_prefix_of_someones_email_finds_nothing(client: TestClient, register: Any) -> None:
    """Walking prefixes spelled out a full address in 344 queries; now no prefix answers at all."""
    ada = register("Ada Lovelace")
    register("Grace Hopper", email="rear.admiral@navy.example")
    address = "rear.admiral@navy.example"
    for length in range(1, len(address)):
        assert _find(client, ada, address[:length]) == [], f"the prefix {address[:length]!r} found someone"
    assert _find(client, ada, address) == ["Grace Hopper"]


def test_an_email_address_matches_only_exactly_not_as_a_substring(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    register("Grace Hopper", email="grace@navy.example")
    assert _find(client, ada, "race@navy.example") == []
    assert _find(client, ada, "grace@navy.example.org") == []
    assert _find(client, ada, "GRACE@NAVY.EXAMPLE") == ["Grace Hopper"]


def test_an_unverified_accounts_profile_is_404_as_for_an_unknown_one(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    stranger = {"email": "victim@example.com", "password": PASSWORD, "display_name": "Call 555-0100 now"}
    response = client.post("/auth/register", json=stranger)
    assert response.status_code == 201
    unverified_id = response.json()["id"]

    profile = client.get(f"/accounts/{unverified_id}", headers=ada.headers)
    assert profile.status_code == 404
    assert profile.json() == {"detail": "no such account", "code": "account_not_found"}
    assert _find(client, ada, "victim@example.com") == []
    assert _find(client, ada, "Call") == []


SEPARATORS_AND_FORMAT_CHARACTERS = {
    "a line separator": "Ada\u2028Lovelace",
    "a paragraph separator": "Ada\u2029Lovelace",
    "a carriage return": "Ada\rLovelace",
    "a line feed": "Ada\nLovelace",
    "a right-to-left override": "Ada \u202eecalevoL",
    "a left-to-right embedding": "Ada \u202aLovelace",
    "a first-strong isolate": "Ada \u2068Lovelace\u2069",
    "a zero-width space": "Ada\u200bLovelace",
    "a zero-width non-joiner": "Ada\u200cLovelace",
    "a byte-order mark": "\ufeffAda Lovelace",
    "a soft hyphen": "Ada Love\u00adlace",
    "a bell": "Ada\x07",
}


@pytest.mark.parametrize("name", SEPARATORS_AND_FORMAT_CHARACTERS.values(), ids=SEPARATORS_AND_FORMAT_CHARACTERS)
def test_a_display_name_with_a_separator_or_format_character_is_422(
    client: TestClient, register: Any, name: str
) -> None:
    ada = register("Ada Lovelace")
    response = client.patch("/accounts/me", json={"display_name": name}, headers=ada.headers)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert "display_name" in body["detail"]
    assert client.get("/accounts/me", headers=ada.headers).json()["display_name"] == "Ada Lovelace"


def test_registering_with_a_bidi_override_in_the_display_name_is_422(client: TestClient) -> None:
    body = {"email": "mallory@example.com", "password": PASSWORD, "display_name": "Mallory \u202eyrollaM"}
    response = client.post("/auth/register", json=body)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert "invisible formatting characters (U+202E" in response.json()["detail"]


def test_a_display_name_mixing_latin_and_cyrillic_in_one_word_is_422(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    response = client.patch("/accounts/me", json={"display_name": "P\u0430ypal Support"}, headers=ada.headers)
    assert response.status_code == 422
    assert "must not mix Cyrillic and Latin letters in one word" in response.json()["detail"]


@pytest.mark.parametrize(
    "name",
    ["Zoë Ñúñez", "Иван Петров", "Ελένη Smith", "李小龍", "محمد", "Family \U0001f468\u200d\U0001f469\u200d\U0001f467"],
)
def test_names_in_any_one_script_per_word_and_emoji_sequences_are_welcome(
    client: TestClient, register: Any, name: str
) -> None:
    ada = register("Ada Lovelace")
    response = client.patch("/accounts/me", json={"display_name": name}, headers=ada.headers)
    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == name
