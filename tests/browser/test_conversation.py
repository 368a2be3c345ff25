"""Two people use chorus in a browser as its mails and pages lead them: register, verify through the mailed link,
log in, start a thread, and each sees the other's messages, edits and deletions arrive live; a reload keeps the
session and logging out ends it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from tests.browser.accounts import PASSWORD
from tests.browser.browsing import NO_SESSION_YET, Visitor
from tests.browser.conftest import Screenshots
from tests.browser.mail import link_in
from tests.browser.service import ChorusService

LIVE = 5_000  # ms: what "appears without reloading" may take here (a push is well under a second)


def register_in_the_page(page: Page, service: ChorusService, name: str) -> str:
    """Fill the registration form, then open the verification mail's link; the address registered."""
    email = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@example.com"
    page.goto("/register")
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text(re.compile("Check your mail"))).to_be_visible()
    [mail] = service.mails_to(email, subject_contains="verify")
    page.goto(link_in(mail, "/verify"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Email verified")
    assert "token" not in page.url  # the secret leaves the address bar (and the history) once used
    return email


def log_in_in_the_page(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Threads")


def messages(page: Page) -> Locator:
    return page.get_by_role("log", name="Messages")


def test_two_people_talk_live_from_registration_to_logout(
    person: Callable[..., Visitor], service: ChorusService, screenshot: Screenshots
) -> None:
    ada, bob = person(), person(mobile=True)
    ada_email = register_in_the_page(ada.page, service, "Ada Lovelace")
    bob_email = register_in_the_page(bob.page, service, "Bob Babbage")
    ada.page.get_by_role("link", name="Log in").click()
    expect(ada.page.get_by_role("heading", level=1)).to_have_text("Log in")
    screenshot(ada.page, "log-in")
    log_in_in_the_page(ada.page, ada_email)
    log_in_in_the_page(bob.page, bob_email)

    # Ada starts a thread with Bob, found by the people lookup.
    ada.page.get_by_label("Title").fill("Lunch on Friday")
    ada.page.get_by_label("Add people").fill("Bob")
    ada.page.get_by_role("option", name=re.compile("Bob Babbage")).click()
    ada.page.get_by_role("button", name="Start thread").click()
    expect(ada.page.get_by_role("heading", level=1)).to_have_text("Lunch on Friday")
    expect(ada.page).to_have_url(re.compile(r"/t/[0-9a-f-]{36}$"))

    # Bob's list shows it without a reload; he opens it.
    thread_link = bob.page.get_by_role("link", name=re.compile("^Lunch on Friday"))
    expect(thread_link).to_be_visible(timeout=LIVE + 5_000)
    thread_link.click()
    expect(bob.page.get_by_role("heading", level=1)).to_have_text("Lunch on Friday")

    # Enter sends; each sees the other's message arrive.
    composer = ada.page.get_by_label("Message", exact=True)
    composer.fill("Shall we meet at noon?")
    composer.press("Enter")
    expect(messages(bob.page).get_by_text("Shall we meet at noon?")).to_be_visible(timeout=LIVE)
    reply = bob.page.get_by_label("Message", exact=True)
    reply.fill("Noon is good.")
    reply.press("Shift+Enter")  # a new line, not a send
    reply.type("I'll book a table.")
    reply.press("Enter")
    expect(messages(ada.page).get_by_text("I'll book a table.")).to_be_visible(timeout=LIVE)
    assert "Noon is good.\nI'll book a table." in messages(ada.page).inner_text()
    expect(reply).to_have_value("")
    screenshot(ada.page, "thread")
    screenshot(bob.page, "thread-phone")

    # Ada edits, then deletes, her message; Bob sees both.
    mine = messages(ada.page).get_by_role("article").filter(has_text="Shall we meet at noon?")
    mine.get_by_role("button", name="Edit message").click()
    editor = ada.page.get_by_label("Edit message")
    editor.fill("Shall we meet at half past twelve?")
    ada.page.get_by_role("button", name="Save").click()
    expect(messages(bob.page).get_by_text("Shall we meet at half past twelve?")).to_be_visible(timeout=LIVE)
    expect(messages(bob.page).get_by_text("(edited)")).to_be_visible()
    edited = messages(ada.page).get_by_role("article").filter(has_text="half past twelve")
    edited.get_by_role("button", name="Delete message").click()
    edited.get_by_role("button", name="Delete", exact=True).click()
    expect(messages(bob.page).get_by_text("This message was deleted")).to_be_visible(timeout=LIVE)
    expect(messages(bob.page).get_by_text("half past twelve")).to_have_count(0)
    expect(messages(ada.page).get_by_text("half past twelve")).to_have_count(0)

    # A reload keeps the session; the thread and its history come back.
    ada.page.reload()
    expect(ada.page.get_by_role("heading", level=1)).to_have_text("Lunch on Friday")
    expect(messages(ada.page).get_by_text("I'll book a table.")).to_be_visible()

    # Bob's list shows Ada's thread with its preview.
    bob.page.get_by_role("link", name="Threads").click()
    expect(bob.page.get_by_role("heading", level=1)).to_have_text("Threads")
    screenshot(bob.page, "threads-phone")
    ada.page.get_by_role("link", name="Threads").click()
    expect(ada.page.get_by_role("list", name="My threads")).to_contain_text("I'll book a table.")
    screenshot(ada.page, "threads")

    # Logging out ends the session: a reload, or another tab, finds no session.
    ada.page.get_by_role("button", name="Log out").click()
    expect(ada.page.get_by_role("heading", level=1)).to_have_text("Log in")
    ada.page.goto("/")
    expect(ada.page.get_by_role("heading", level=1)).to_have_text("Log in")
    refreshed = ada.context.request.post("/auth/browser/refresh", headers={"X-Chorus-Browser": "1"})
    assert refreshed.status == 401
    for visitor in (ada, bob):
        visitor.assert_no_problems(ignoring=(NO_SESSION_YET,))
