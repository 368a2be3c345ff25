"""The browser tests' own machinery, proved on what the service serves today: a real `chorus run`, its mail, and
Chromium watching a page for errors. The web client's scenarios live beside these."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import APIRequestContext

from tests.browser.accounts import register
from tests.browser.browsing import Visitor
from tests.browser.conftest import Screenshots
from tests.browser.service import ChorusService
from tests.services import SERVICES


def test_the_service_is_live_and_ready(api: APIRequestContext) -> None:
    assert api.get("/health").ok
    ready = api.get("/ready")
    assert ready.status == 200, ready.text()
    expected = {"status": "ready", "database": "ok", "broker": "ok"} | ({"redis": "ok"} if SERVICES else {})
    assert ready.json() == expected


def test_a_registration_is_mailed_and_verified_by_the_worker(api: APIRequestContext, service: ChorusService) -> None:
    """The worker sent the mail, the link in it carries a token that verifies, and the account may then log in."""
    account = register(api, service, "Grace Hopper")
    login = api.post("/auth/token", form={"username": account.email, "password": account.password})
    assert login.status == 200, login.text()


def test_the_scheduler_runs_beside_the_api_and_the_worker(service: ChorusService) -> None:
    assert service.running()  # the supervisor stops all three as soon as one exits
    assert set(service.children) == {"api", "worker", "scheduler"}
    assert list((service.folder / "var").glob("celerybeat-schedule*")), "beat keeps its schedule in var/"


def test_a_page_is_opened_and_watched(person: Callable[..., Visitor], tmp_path: Path) -> None:
    """Swagger UI (/docs) loads its scripts from a CDN this machine cannot reach: the API's description is opened
    instead, as Chromium shows JSON."""
    ada = person()
    ada.page.goto("/openapi.json")
    assert '"/auth/register"' in ada.page.inner_text("body")
    assert ada.page.viewport_size == {"width": 1280, "height": 800}
    # Not the `screenshot` fixture's folder: `make screenshots` keeps only the client's pictures in docs/.
    assert Screenshots(tmp_path)(ada.page, "openapi").read_bytes().startswith(b"\x89PNG")
    ada.assert_no_problems(ignoring=("/favicon.ico",))  # the API has no icon; the client's pages will


def test_console_errors_and_csp_violations_are_noticed(person: Callable[..., Visitor]) -> None:
    phone = person(mobile=True)
    assert phone.page.viewport_size == {"width": 360, "height": 740}
    page = "<!doctype html><title>probe</title><script>console.log('blocked')</script>"
    phone.page.route(
        "**/csp-probe",
        lambda route: route.fulfill(
            body=page, content_type="text/html", headers={"Content-Security-Policy": "script-src 'none'"}
        ),
    )
    phone.page.goto("/csp-probe")
    phone.page.evaluate("console.error('said on purpose'); setTimeout(() => { throw new Error('thrown on purpose') })")
    phone.page.wait_for_timeout(100)
    problems = "\n".join(phone.problems(ignoring=("/favicon.ico",)))
    assert "console: said on purpose" in problems
    assert "uncaught: Error: thrown on purpose" in problems
    assert "CSP: script-src-elem blocked inline on http://127.0.0.1" in problems
