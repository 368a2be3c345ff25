"""The links chorus mails open pages that do what the mail says: a reset link sets a new password (and the old one
stops working), and a verification link that is no good says so and offers a new one."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import APIRequestContext, expect

from tests.browser.accounts import register
from tests.browser.browsing import NO_SESSION_YET, Visitor
from tests.browser.mail import link_in
from tests.browser.service import ChorusService
from tests.browser.test_conversation import log_in_in_the_page

NEW_PASSWORD = "a new and longer passphrase"


def test_the_reset_link_sets_a_new_password(
    person: Callable[..., Visitor], api: APIRequestContext, service: ChorusService
) -> None:
    ada = register(api, service, "Ada Lovelace")
    visitor = person()
    page = visitor.page
    page.goto("/login")
    page.get_by_role("link", name="Forgot password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgot password")
    page.get_by_label("Email").fill(ada.email)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("status").filter(has_text="mail")).to_be_visible()
    [mail] = service.mails_to(ada.email, subject_contains="reset")
    page.goto(link_in(mail, "/reset-password"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    assert "token" not in page.url
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Password changed")
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill(ada.email)
    page.get_by_label("Password").fill(ada.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile("incorrect email or password", re.IGNORECASE))
    log_in_in_the_page(page, ada.email, NEW_PASSWORD)
    visitor.assert_no_problems(ignoring=(NO_SESSION_YET, "/auth/browser/login:"))  # the old password refused


def test_a_verification_link_that_is_no_good_offers_a_new_one(person: Callable[..., Visitor]) -> None:
    visitor = person()
    page = visitor.page
    page.goto("/verify?token=" + "x" * 43)
    expect(page.get_by_role("heading", level=1)).to_have_text("Verification failed")
    page.get_by_label("Email").fill("someone@example.com")
    page.get_by_role("button", name="Send a new link").click()
    expect(page.get_by_role("status").filter(has_text="mail")).to_be_visible()
    visitor.assert_no_problems(ignoring=(NO_SESSION_YET, "/auth/verify:"))  # the bad token refused
