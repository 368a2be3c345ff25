"""Debian's Chromium driven by Playwright, and a person at it: a browser context and page of their own, with what
went wrong on the page (console errors, uncaught exceptions, Content-Security-Policy violations) kept for asserting."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, WebError
from playwright.sync_api import Error as PlaywrightError

CHROMIUM = Path("/usr/bin/chromium")  # `make chromium` installs it; Playwright's own download fails on this machine
# No sandbox as root (Chromium refuses to start otherwise); the rest stops Chromium's background connections
# (updates, sync, field trials, QUIC probes), which this machine's closed network refuses, filling the log.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 360, "height": 740}

# Each document reports its CSP violations to the test (through a binding, so they outlive a navigation).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const blocked = event.blockedURI || "inline";
  window.reportCspViolation(`${event.violatedDirective} blocked ${blocked} on ${event.documentURI}`);
});
"""


def launch_chromium(playwright: Playwright) -> Browser:
    sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*sandbox, *CHROMIUM_ARGS])


@dataclass
class Visitor:
    """One person's browser: a context of their own (cookies, storage) and its page."""

    context: BrowserContext
    page: Page
    console_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def problems(self, *, ignoring: tuple[str, ...] = ()) -> list[str]:
        """What the pages reported, but for lines containing one of ``ignoring``."""
        with contextlib.suppress(PlaywrightError):  # a round trip: reports already sent by the page arrive first
            self.page.evaluate("0")
        reported = [*self.console_errors, *(f"CSP: {violation}" for violation in self.csp_violations)]
        return [line for line in reported if not any(part in line for part in ignoring)]

    def assert_no_problems(self, *, ignoring: tuple[str, ...] = ()) -> None:
        """No console error (a failed request among them), uncaught exception or CSP violation on any page this
        person opened, but for lines containing one of ``ignoring``."""
        problems = self.problems(ignoring=ignoring)
        assert not problems, "the pages reported:\n  " + "\n  ".join(problems)


def open_visitor(browser: Browser, base_url: str, *, mobile: bool = False) -> Visitor:
    """A fresh context and page: desktop 1280x800, or a 360x740 touch phone."""
    options: dict[str, Any] = {"viewport": MOBILE, "is_mobile": True, "has_touch": True} if mobile else {}
    context = browser.new_context(base_url=base_url, **({"viewport": DESKTOP} | options))
    console_errors: list[str] = []
    csp_violations: list[str] = []
    # On the context, not the page: pages the person opens later (a link in a new tab) are watched too.
    context.expose_function("reportCspViolation", lambda report: csp_violations.append(str(report)))
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    context.on("console", lambda message: _note_console(console_errors, message))
    context.on("weberror", lambda error: _note_uncaught(console_errors, error))
    return Visitor(context, context.new_page(), console_errors, csp_violations)


def _note_console(errors: list[str], message: ConsoleMessage) -> None:
    if message.type == "error":
        where = message.location
        errors.append(f"console: {message.text} ({where['url']}:{where['lineNumber']})")


def _note_uncaught(errors: list[str], web_error: WebError) -> None:
    errors.append(f"uncaught: {web_error.error.name}: {web_error.error.message}")
