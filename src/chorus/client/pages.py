"""The web client's pages and assets: one HTML shell for every page path, and the files Vite built beside it.

Every page gets a Content-Security-Policy that allows only this origin's scripts and styles (no inline script, no
``eval``) and no framing, so a string that slipped into the markup still could not run. The shell is never cached
(it names the assets of the current build); the assets are named by their content's hash and cached for good.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from chorus.web import Problem

BUILT = Path(__file__).resolve().parent / "built"
"""Where ``make client`` puts the build (``vite build``); not in git."""

PAGE_PATHS = ("/", "/login", "/register", "/forgot-password", "/verify", "/reset-password", "/profile")
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}
ASSET_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "public, max-age=31536000, immutable",
}
ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")

router = APIRouter(include_in_schema=False)


def _not_built() -> Problem:
    return Problem(503, "the web client is not built: run `make client`", "client_not_built", {"Retry-After": "60"})


async def page() -> HTMLResponse:
    """The client's shell; the client routes by the path itself."""
    try:
        shell = (BUILT / "index.html").read_bytes()
    except FileNotFoundError:
        raise _not_built() from None
    return HTMLResponse(shell, headers=PAGE_HEADERS)


for path in PAGE_PATHS:
    router.add_api_route(path, page, methods=["GET"], name=f"page:{path}")


@router.get("/t/{thread_id}")
async def thread_page(thread_id: str) -> HTMLResponse:
    """A thread's page; the client asks the API for the thread, so an unknown id is the client's to tell."""
    return await page()


@router.get("/assets/{name}")
async def asset(name: str) -> FileResponse:
    if not ASSET_NAME.fullmatch(name):
        raise Problem(404, "no such asset", "not_found")
    found = BUILT / "assets" / name
    if not found.is_file():
        raise Problem(404, "no such asset", "not_found") if BUILT.is_dir() else _not_built()
    return FileResponse(found, headers=ASSET_HEADERS)
