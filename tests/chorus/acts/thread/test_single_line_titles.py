"""A thread's title is one visible line: it goes into mail subjects and onto other people's screens, so line and
paragraph separators, bidi controls and zero-width characters are refused with a 422 that says why."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conversations import start_thread

REFUSED_TITLES = {
    "a line separator": ("Lunch\u2028at noon", "single line"),
    "a paragraph separator": ("Lunch\u2029at noon", "single line"),
    "a line feed": ("Lunch\nat noon", "control characters"),
    "a right-to-left override": ("Lunch \u202enoon", "U+202E"),
    "a pop directional isolate": ("Lunch \u2069", "U+2069"),
    "a zero-width space": ("Lun\u200bch", "U+200B"),
    "a word joiner": ("Lun\u2060ch", "U+2060"),
}


@pytest.mark.parametrize(("title", "says"), REFUSED_TITLES.values(), ids=REFUSED_TITLES)
def test_starting_a_thread_with_a_separator_or_format_character_in_its_title_is_422(
    client: TestClient, register: Any, title: str, says: str
) -> None:
    ada = register("Ada Lovelace")
    response = client.post("/threads", json={"title": title, "participant_ids": []}, headers=ada.headers)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert "title" in body["detail"]
    assert says in body["detail"]


@pytest.mark.parametrize(("title", "says"), REFUSED_TITLES.values(), ids=REFUSED_TITLES)
def test_renaming_a_thread_to_a_title_with_a_separator_or_format_character_is_422(
    client: TestClient, register: Any, title: str, says: str
) -> None:
    ada = register("Ada Lovelace")
    thread = start_thread(client, ada, title="Lunch")
    response = client.patch(f"/threads/{thread['id']}", json={"title": title}, headers=ada.headers)
    assert response.status_code == 422, response.text
    assert says in response.json()["detail"]
    assert client.get(f"/threads/{thread['id']}", headers=ada.headers).json()["title"] == "Lunch"


def test_a_title_may_hold_emoji_joined_into_one_picture(client: TestClient, register: Any) -> None:
    ada = register("Ada Lovelace")
    title = "Family \U0001f468\u200d\U0001f469\u200d\U0001f467 dinner \U0001f3f3\ufe0f\u200d\U0001f308"
    assert start_thread(client, ada, title=title)["title"] == title
