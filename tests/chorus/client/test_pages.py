"""The web client's pages: one shell for every page path, under a Content-Security-Policy that forbids inline
script and framing; hashed assets cached for good; /docs untouched. A stand-in build is used here: the real one is
driven in a browser by tests/browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from chorus.client import pages

SHELL = b'<!doctype html><title>chorus</title><script type="module" src="/assets/index-abc123.js"></script>'
PAGE_PATHS = [*pages.PAGE_PATHS, "/verify?token=abc", "/reset-password?token=abc", "/t/0190b0a8-7c7e-7d3a-9f00-1"]


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_bytes(SHELL)
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log('chorus')")
    (tmp_path / "assets" / "index-abc123.css").write_text("body { margin: 0 }")
    monkeypatch.setattr(pages, "BUILT", tmp_path)
    return tmp_path


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_every_page_path_answers_the_shell_with_the_page_headers(client: TestClient, built: Path, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.content == SHELL
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = _directives(response.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no other origin
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]


def test_assets_are_served_with_their_type_and_cached_for_good(client: TestClient, built: Path) -> None:
    script = client.get("/assets/index-abc123.js")
    style = client.get("/assets/index-abc123.css")
    assert script.status_code == style.status_code == 200
    assert script.text == "console.log('chorus')"
    assert script.headers["content-type"].startswith("text/javascript")
    assert style.headers["content-type"].startswith("text/css")
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("name", ["missing.js", "..%2Findex.html", ".hidden", "%2Fetc%2Fpasswd"])
def test_nothing_but_a_built_asset_is_served(client: TestClient, built: Path, name: str) -> None:
    response = client.get(f"/assets/{name}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_without_a_build_the_pages_say_how_to_make_one(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "BUILT", tmp_path / "not-built")
    for path in ("/", "/assets/index-abc123.js"):
        response = client.get(path)
        assert response.status_code == 503
        assert response.json() == {
            "detail": "the web client is not built: run `make client`",
            "code": "client_not_built",
        }
        assert response.headers["retry-after"] == "60"


def test_the_api_docs_keep_working_without_the_pages_policy(client: TestClient, built: Path) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    assert "content-security-policy" not in docs.headers  # Swagger UI's scripts come from its CDN
    spec = client.get("/openapi.json").json()
    assert not {"/", "/login", "/verify", "/assets/{name}", "/t/{thread_id}"} & set(spec["paths"])
    assert "/auth/browser/login" in spec["paths"]


def test_the_api_answers_json_as_before(client: TestClient, built: Path) -> None:
    response = client.get("/threads")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
