"""A page outlives its access tokens: it refreshes before one runs out, and when its stream ends with
``token_expired`` it reconnects with a fresh token from where it stopped. Run on a chorus of its own whose tokens
live one minute (the shortest `CHORUS_ACCESS_TOKEN_MINUTES` allows), so the test waits a little over a minute."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Playwright, Request, expect

from tests.browser.accounts import bearer, register
from tests.browser.browsing import NO_SESSION_YET, open_visitor
from tests.browser.service import ChorusService, start_service
from tests.browser.test_conversation import log_in_in_the_page, messages

TOKEN_SECONDS = 60


@pytest.fixture(scope="module")
def short_tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChorusService]:
    running = start_service(tmp_path_factory.mktemp("short-tokens"), CHORUS_ACCESS_TOKEN_MINUTES="1")
    yield running
    running.stop()


def test_a_page_keeps_its_session_and_its_stream_past_its_tokens_lifetime(
    playwright: Playwright, browser: Browser, short_tokens: ChorusService
) -> None:
    api = playwright.request.new_context(base_url=short_tokens.url)
    visitor = open_visitor(browser, short_tokens.url)
    try:
        ada, bob = register(api, short_tokens, "Ada Lovelace"), register(api, short_tokens, "Bob Babbage")
        created = api.post(
            "/threads", data={"title": "Long call", "participant_ids": [str(ada.id)]}, headers=bearer(api, bob)
        )
        thread_id = created.json()["id"]
        refreshes: list[Request] = []
        streams: list[Request] = []
        visitor.page.on("request", lambda r: refreshes.append(r) if r.url.endswith("/auth/browser/refresh") else None)
        visitor.page.on("request", lambda r: streams.append(r) if r.url.endswith(f"{thread_id}/events") else None)
        page = visitor.page
        log_in_in_the_page(page, ada.email)
        page.goto(f"/t/{thread_id}")
        expect(page.get_by_role("heading", level=1)).to_have_text("Long call")
        api.post(f"/threads/{thread_id}/messages", data={"body": "one"}, headers=bearer(api, bob))
        expect(messages(page).get_by_text("one", exact=True)).to_be_visible()
        refreshes.clear()
        first_streams = len(streams)

        # Halfway through its token the page refreshes; when the stream's token runs out, the stream ends and the
        # page opens it again with a fresh token, from the last event it had.
        page.wait_for_timeout(TOKEN_SECONDS * 1000 + 3_000)
        assert refreshes, "no refresh within the token's lifetime"
        assert len(streams) > first_streams, "the stream was not opened again after its token expired"
        assert streams[-1].headers.get("last-event-id"), "the stream did not resume from its last event"
        api.post(f"/threads/{thread_id}/messages", data={"body": "two"}, headers=bearer(api, bob))
        expect(messages(page).get_by_text("two", exact=True)).to_be_visible(timeout=5_000)
        expect(page.get_by_role("heading", level=1)).to_have_text("Long call")  # never sent to log in
        me = page.evaluate("() => fetch('/accounts/me').then((answer) => answer.status)")
        assert me == 401  # without the page's bearer token the API knows nobody: the cookie is no credential there
        visitor.assert_no_problems(ignoring=(NO_SESSION_YET, "/accounts/me:"))
    finally:
        visitor.context.close()
        api.dispose()
