"""Fixtures of the browser tests: chorus running as `make run` runs it (once per session), headless Chromium, a fresh
browser per person, the API for arranging what a scenario needs, and screenshots.

tests/conftest.py (the in-process suite's environment, database and worker) is not loaded by `pytest tests/browser`:
see pytest.ini beside this file. Should one run collect tests/browser with the rest (`pytest tests`), it is loaded,
and the two autouse fixtures below stand in for its own here, so the browser tests neither build nor empty the
in-process database they never use; the service's environment drops the CHORUS_* variables it sets.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import APIRequestContext, Browser, Page, Playwright, sync_playwright

from tests.browser.browsing import Visitor, launch_chromium, open_visitor
from tests.browser.service import REPOSITORY, ChorusService, start_service

SERVICE = pytest.StashKey[ChorusService]()
VISITORS = pytest.StashKey[list[Visitor]]()
SCREENSHOTS = os.environ.get("CHORUS_SCREENSHOTS") == "1"


@pytest.fixture(scope="session")
def database() -> None:
    """Stands in for tests/conftest.py's, in a run that loads it: the service has a database of its own."""


@pytest.fixture
def _isolated() -> None:
    """Stands in for tests/conftest.py's, in a run that loads it: nothing of the in-process suite to empty."""


@pytest.fixture(scope="session")
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChorusService]:
    """One chorus (API, worker, scheduler) for the session; tests tell their data apart by fresh addresses."""
    running = start_service(tmp_path_factory.mktemp("chorus"))
    request.config.stash[SERVICE] = running
    yield running
    running.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = launch_chromium(playwright)
    yield chromium
    chromium.close()


@pytest.fixture
def person(
    request: pytest.FixtureRequest, browser: Browser, service: ChorusService
) -> Iterator[Callable[..., Visitor]]:
    """``person()`` (desktop, 1280x800) or ``person(mobile=True)`` (360x740): a browser of their own on the service,
    closed after the test."""
    opened = request.node.stash.setdefault(VISITORS, [])

    def open_one(*, mobile: bool = False) -> Visitor:
        visitor = open_visitor(browser, service.url, mobile=mobile)
        opened.append(visitor)
        return visitor

    yield open_one
    for visitor in opened:
        visitor.context.close()


@pytest.fixture
def api(playwright: Playwright, service: ChorusService) -> Iterator[APIRequestContext]:
    """Requests to the service outside any browser, to arrange what a scenario starts from."""
    context = playwright.request.new_context(base_url=service.url)
    yield context
    context.dispose()


class Screenshots:
    """``screenshot(page, name)``: docs/screenshots/<name>.png with CHORUS_SCREENSHOTS=1 (`make screenshots`, for
    the README), else a temporary folder, so an ordinary run leaves the committed pictures alone."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, page: Page, name: str, *, full_page: bool = False) -> Path:
        path = self.folder / f"{name}.png"
        page.screenshot(path=path, full_page=full_page, animations="disabled", caret="hide")
        return path


@pytest.fixture(scope="session")
def screenshot(tmp_path_factory: pytest.TempPathFactory) -> Screenshots:
    folder = REPOSITORY / "docs" / "screenshots" if SCREENSHOTS else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return Screenshots(folder)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test's report carries the tail of the service's output and a picture of each page it had open."""
    report = yield
    if report.failed:
        running = item.config.stash.get(SERVICE, None)
        if running is not None:
            report.sections.append(("chorus run output", running.tail()))
            visitors: list[Visitor] = item.stash.get(VISITORS, [])
            for number, visitor in enumerate(visitors):
                path = running.folder / "failures" / f"{item.name}-{report.when}-{number}.png"
                with contextlib.suppress(Exception):  # a page that closed or crashed has no picture to give
                    visitor.page.screenshot(path=path)
                    report.sections.append((f"page {number}", f"{visitor.page.url}, pictured in {path}"))
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    running = terminalreporter.config.stash.get(SERVICE, None)
    if running is not None:
        terminalreporter.write_line(
            f"chorus run (migrate, API, worker, scheduler): ready in {running.started_in:.1f} s, "
            f"stopped in {running.stopped_in:.1f} s"
        )
