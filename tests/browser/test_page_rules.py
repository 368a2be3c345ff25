"""What every page owes a person and the browser: security headers with no inline script, labels on every field,
errors beside the field they concern, keyboard use with a visible focus, and a layout that fits 360 px."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

from playwright.sync_api import APIRequestContext, Page, expect

from tests.browser.accounts import PASSWORD, register
from tests.browser.browsing import NO_SESSION_YET, Visitor
from tests.browser.service import ChorusService
from tests.browser.test_conversation import log_in_in_the_page

ANONYMOUS_PAGES = ("/login", "/register", "/forgot-password", "/reset-password?token=" + "x" * 43)
UNLABELLED = """() => [...document.querySelectorAll("input, textarea, select, button")]
    .filter((el) => !el.hidden && el.type !== "hidden")
    .filter((el) => el.tagName === "BUTTON"
        ? !(el.textContent.trim() || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby"))
        : !(el.labels?.length || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")))
    .map((el) => el.outerHTML)"""
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


class _Shell(HTMLParser):
    """What of the shell could run or style without a file of this origin: inline scripts, styles, handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script":
            self.scripts.append(named.get("src") or "")
        if tag == "style" or "style" in named or any(name.startswith("on") for name in named):
            self.inline.append(self.get_starttag_text() or tag)

    def handle_data(self, data: str) -> None:
        if self.lasttag == "script" and data.strip():
            self.inline.append(data.strip()[:80])


def test_pages_carry_a_policy_that_no_inline_script_can_pass(api: APIRequestContext) -> None:
    for path in ("/", *ANONYMOUS_PAGES, "/t/0190b0a8-0000-7000-8000-000000000000", "/profile"):
        response = api.get(path)
        assert response.status == 200, path
        headers = response.headers
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
    shell = _Shell()
    shell.feed(api.get("/").text())
    assert shell.inline == []
    assert shell.scripts
    assert all(re.fullmatch(r"/assets/[\w.-]+\.js", src) for src in shell.scripts)


def test_the_api_docs_still_answer(api: APIRequestContext) -> None:
    docs = api.get("/docs")
    assert docs.status == 200
    assert "content-security-policy" not in docs.headers
    assert "/openapi.json" in docs.text()
    assert api.get("/openapi.json").json()["info"]["title"] == "chorus"


def test_every_field_has_a_label_and_the_phone_layout_fits(
    person: Callable[..., Visitor], api: APIRequestContext, service: ChorusService
) -> None:
    phone = person(mobile=True)
    page = phone.page
    for path in ANONYMOUS_PAGES:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert page.evaluate(UNLABELLED) == [], path
        assert page.evaluate(OVERFLOW) <= 0, f"{path} scrolls sideways at 360 px"
    ada, bob = register(api, service, "Ada Lovelace"), register(api, service, "Bob Babbage")
    log_in_in_the_page(page, ada.email)
    page.get_by_label("Title").fill("Plans")
    page.get_by_label("Add people").fill(bob.email)
    page.get_by_role("option", name=re.compile("Bob Babbage")).click()
    page.get_by_role("button", name="Start thread").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Plans")
    for _ in range(2):  # the thread, then the list and the profile
        assert page.evaluate(UNLABELLED) == [], page.url
        assert page.evaluate(OVERFLOW) <= 0, f"{page.url} scrolls sideways at 360 px"
        page.get_by_role("link", name="Threads").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Threads")
        assert page.evaluate(UNLABELLED) == [], page.url
        page.get_by_role("link", name="Profile").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Profile")
    phone.assert_no_problems(ignoring=(NO_SESSION_YET,))


def test_errors_sit_next_to_their_field(person: Callable[..., Visitor]) -> None:
    visitor = person()
    page = visitor.page
    page.goto("/register")
    page.get_by_label("Display name").fill("Ada")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    password = page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    described_by = password.get_attribute("aria-describedby")
    assert described_by
    expect(page.locator(f"#{described_by.split()[0]}")).to_contain_text("12")  # the API's "at least 12 characters"
    expect(page.get_by_label("Email")).not_to_have_attribute("aria-invalid", "true")
    visitor.assert_no_problems(ignoring=(NO_SESSION_YET, "422"))  # the refused request is logged by the browser


def test_the_keyboard_alone_logs_in_with_a_visible_focus(
    person: Callable[..., Visitor], api: APIRequestContext, service: ChorusService
) -> None:
    ada = register(api, service, "Ada Lovelace")
    page = person().page
    page.goto("/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    _tab_to(page, "Email")
    assert _focus_is_visible(page)
    page.keyboard.type(ada.email)
    _tab_to(page, "Password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Threads")


def _tab_to(page: Page, label: str, presses: int = 15) -> None:
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement?.labels?.[0]?.textContent?.trim()") == label:
            return
    raise AssertionError(f"{presses} presses of Tab never reached the field {label!r}")


def _focus_is_visible(page: Page) -> bool:
    style = page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return [s.outlineStyle, s.outlineWidth, s.boxShadow]; }"""
    )
    outline_style, outline_width, box_shadow = style
    return bool((outline_style != "none" and outline_width != "0px") or box_shadow != "none")
