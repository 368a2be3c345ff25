"""What arrives without a reload: messages in every open tab, across a dropped connection with nothing missed;
unread counts on the list; older pages on scrolling up; participants added and removed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import APIRequestContext, Browser, Page, expect

from tests.browser.accounts import Account, bearer, register
from tests.browser.browsing import NO_SESSION_YET, Visitor, open_visitor
from tests.browser.service import ChorusService
from tests.browser.test_conversation import LIVE, log_in_in_the_page, messages
from tests.faults.proxy import FaultProxy


@pytest.fixture
def proxy(service: ChorusService) -> Iterator[FaultProxy]:
    """The service reached through a proxy that can drop every connection, as a flaky network would."""
    between = FaultProxy("browser", "127.0.0.1", service.port)
    yield between
    between.close()


def _thread(api: APIRequestContext, owner: Account, title: str, *others: Account) -> tuple[str, dict[str, str]]:
    headers = bearer(api, owner)
    created = api.post(
        "/threads", data={"title": title, "participant_ids": [str(other.id) for other in others]}, headers=headers
    )
    assert created.status == 201, created.text()
    return created.json()["id"], headers


def _post(api: APIRequestContext, thread_id: str, body: str, headers: dict[str, str]) -> None:
    posted = api.post(f"/threads/{thread_id}/messages", data={"body": body}, headers=headers)
    assert posted.status == 201, posted.text()


def _open_thread(page: Page, account: Account, thread_id: str, title: str) -> None:
    log_in_in_the_page(page, account.email)
    page.goto(f"/t/{thread_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_a_dropped_stream_resumes_with_nothing_missed_in_every_tab(
    browser: Browser, api: APIRequestContext, service: ChorusService, proxy: FaultProxy
) -> None:
    ada, bob = register(api, service, "Ada Lovelace"), register(api, service, "Bob Babbage")
    thread_id, bobs = _thread(api, bob, "Flaky wifi", ada)
    visitor = open_visitor(browser, f"http://127.0.0.1:{proxy.port}")
    try:
        first = visitor.page
        _open_thread(first, ada, thread_id, "Flaky wifi")
        second = visitor.context.new_page()  # a second tab of the same person, on the same session
        second.goto(f"/t/{thread_id}")
        expect(second.get_by_role("heading", level=1)).to_have_text("Flaky wifi")
        _post(api, thread_id, "before the drop", bobs)
        for tab in (first, second):
            expect(messages(tab).get_by_text("before the drop")).to_be_visible(timeout=LIVE)

        proxy.cut()  # every open connection reset, new ones refused
        during = [f"during the drop {number}" for number in range(1, 4)]
        for body in during:
            _post(api, thread_id, body, bobs)
        proxy.heal()

        _post(api, thread_id, "after the drop", bobs)
        for tab in (first, second):
            expect(messages(tab).get_by_text("after the drop")).to_be_visible(timeout=20_000)  # its backoff, then
            shown = messages(tab).get_by_role("article").all_inner_texts()
            bodies = [line for text in shown for line in text.splitlines() if "drop" in line]
            assert bodies == ["before the drop", *during, "after the drop"]  # in order, none missing, none twice
        visitor.assert_no_problems(ignoring=(NO_SESSION_YET, "ERR_CONNECTION_RESET", "ERR_CONNECTION_REFUSED"))
    finally:
        visitor.context.close()


def test_unread_counts_move_and_participants_change_live(
    person: Callable[..., Visitor], api: APIRequestContext, service: ChorusService
) -> None:
    ada, bob = register(api, service, "Ada Lovelace"), register(api, service, "Bob Babbage")
    register(api, service, "Cy Young")
    thread_id, as_ada = _thread(api, ada, "Planning", bob)
    bobs_browser, adas_browser = person(), person()
    bobs = bobs_browser.page
    log_in_in_the_page(bobs, bob.email)
    listed = bobs.get_by_role("link", name=re.compile("^Planning"))
    expect(listed).to_be_visible()
    _post(api, thread_id, "first", as_ada)
    _post(api, thread_id, "second", as_ada)
    expect(listed).to_contain_text("2 unread", timeout=LIVE + 5_000)  # the list re-reads itself every 5 s
    listed.click()
    expect(messages(bobs).get_by_text("second")).to_be_visible()
    bobs.get_by_role("link", name="Threads").click()
    expect(listed).not_to_contain_text("unread")  # reading the thread moved Bob's marker

    bobs.go_back()
    expect(bobs.get_by_role("heading", level=1)).to_have_text("Planning")
    adas = adas_browser.page
    _open_thread(adas, ada, thread_id, "Planning")
    adas.get_by_label("Add participant").fill("Cy")
    adas.get_by_role("option", name=re.compile("Cy Young")).click()
    adas.get_by_role("button", name="Add", exact=True).click()
    participants = bobs.get_by_role("region", name="Participants")
    expect(participants).to_contain_text("Cy Young", timeout=LIVE)
    adas.get_by_role("button", name="Remove Bob Babbage").click()
    expect(bobs.get_by_text("You are no longer a participant of this thread.")).to_be_visible(timeout=LIVE)
    expect(bobs.get_by_label("Message", exact=True)).to_be_disabled()
    expect(adas.get_by_role("list", name="Participants")).not_to_contain_text("Bob Babbage")
    for visitor in (bobs_browser, adas_browser):
        visitor.assert_no_problems(ignoring=(NO_SESSION_YET,))


def test_older_messages_load_on_scrolling_up(
    person: Callable[..., Visitor], api: APIRequestContext, service: ChorusService
) -> None:
    ada = register(api, service, "Ada Lovelace")
    thread_id, adas = _thread(api, ada, "A long story")
    for number in range(1, 121):  # the page shows the newest 50; two more pages lie above them
        _post(api, thread_id, f"chapter {number}", adas)
    visitor = person()
    page = visitor.page
    _open_thread(page, ada, thread_id, "A long story")
    log = messages(page)
    expect(log.get_by_text("chapter 120", exact=True)).to_be_in_viewport()  # opened at the bottom
    expect(log.get_by_text("chapter 1", exact=True)).to_have_count(0)
    for _ in range(10):
        if log.get_by_text("chapter 1", exact=True).count():
            break
        log.evaluate("element => element.scrollTo(0, 0)")
        page.wait_for_timeout(300)
    expect(log.get_by_text("chapter 1", exact=True)).to_be_visible()
    expect(log.get_by_role("article")).to_have_count(120)
    visitor.assert_no_problems(ignoring=(NO_SESSION_YET,))


def test_more_threads_load_on_scrolling_down(
    person: Callable[..., Visitor], api: APIRequestContext, service: ChorusService
) -> None:
    ada = register(api, service, "Ada Lovelace")
    as_ada = bearer(api, ada)
    for number in range(1, 36):  # the list's page holds 30
        created = api.post("/threads", data={"title": f"Topic {number}"}, headers=as_ada)
        assert created.status == 201, created.text()
    visitor = person()
    page = visitor.page
    log_in_in_the_page(page, ada.email)
    mine = page.get_by_role("list", name="My threads").get_by_role("link")
    expect(mine.first).to_contain_text("Topic 35")  # newest activity first
    expect(mine).to_have_count(30)
    mine.last.scroll_into_view_if_needed()
    expect(mine).to_have_count(35)
    expect(mine.last).to_contain_text("Topic 1")
    visitor.assert_no_problems(ignoring=(NO_SESSION_YET,))


def test_a_thread_i_am_removed_from_leaves_my_list(
    person: Callable[..., Visitor], api: APIRequestContext, service: ChorusService
) -> None:
    ada, bob = register(api, service, "Ada Lovelace"), register(api, service, "Bob Babbage")
    thread_id, as_ada = _thread(api, ada, "Surprise party", bob)
    _thread(api, ada, "Book club", bob)
    visitor = person()
    page = visitor.page
    log_in_in_the_page(page, bob.email)
    mine = page.get_by_role("list", name="My threads")
    expect(mine).to_contain_text("Surprise party")
    removed = api.delete(f"/threads/{thread_id}/participants/{bob.id}", headers=as_ada)
    assert removed.status == 204, removed.text()
    expect(mine).not_to_contain_text("Surprise party", timeout=LIVE + 5_000)  # the list re-reads itself every 5 s
    expect(mine).to_contain_text("Book club")
    visitor.assert_no_problems(ignoring=(NO_SESSION_YET,))
