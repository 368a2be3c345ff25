"""Every string a person supplies (display names, thread titles, message bodies) is shown as text, never run as
markup: each payload below would set ``window.pwned`` if the page ever parsed it as HTML."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import APIRequestContext, expect

from tests.browser.accounts import register
from tests.browser.browsing import NO_SESSION_YET, Visitor
from tests.browser.conftest import Screenshots
from tests.browser.service import ChorusService
from tests.browser.test_conversation import log_in_in_the_page, messages

NAME = "<img src=x onerror=\"window.pwned='name'\">"
TITLE = "<script>window.pwned='title'</script>"
BODIES = (
    "<img src=x onerror=window.pwned='body'>",
    "<script>window.pwned='script'</script>",
    "<svg onload=\"window.pwned='svg'\"></svg> & <b>bold?</b>",
)


def test_names_titles_and_bodies_render_as_text(
    person: Callable[..., Visitor], api: APIRequestContext, service: ChorusService, screenshot: Screenshots
) -> None:
    mallory = register(api, service, "Mallory")
    ada = register(api, service, "Ada Lovelace")
    login = api.post("/auth/token", form={"username": mallory.email, "password": mallory.password})
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert api.patch("/accounts/me", data={"display_name": NAME}, headers=bearer).ok
    thread = api.post("/threads", data={"title": TITLE, "participant_ids": [str(ada.id)]}, headers=bearer)
    assert thread.status == 201, thread.text()
    thread_id = thread.json()["id"]

    visitor = person()
    page = visitor.page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))  # an unhandled dialog is dismissed
    log_in_in_the_page(page, ada.email)
    expect(page.get_by_role("list", name="My threads")).to_contain_text(TITLE)
    page.get_by_role("link", name=TITLE).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    for body in BODIES:  # posted while Ada watches: rendered from the live event, then from the page on reload
        posted = api.post(f"/threads/{thread_id}/messages", data={"body": body}, headers=bearer)
        assert posted.status == 201, posted.text()
        expect(messages(page).get_by_text(body, exact=True)).to_be_visible()
    expect(page.get_by_text(NAME).first).to_be_visible()
    screenshot(page, "untrusted-text")
    page.reload()
    for body in BODIES:
        expect(messages(page).get_by_text(body, exact=True)).to_be_visible()
    page.get_by_role("link", name="Threads").click()
    expect(page.get_by_role("list", name="My threads")).to_contain_text(BODIES[-1])  # the preview

    assert page.evaluate("window.pwned") is None
    assert dialogs == []
    for made in (page.locator("img[src='x']"), page.locator("svg[onload]"), page.locator("b", has_text="bold?")):
        expect(made).to_have_count(0)  # no element was made of the payloads
    visitor.assert_no_problems(ignoring=(NO_SESSION_YET,))
