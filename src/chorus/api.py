"""The API application the containers run: ``uvicorn chorus.api:app``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import FastAPI, Request, Response, status
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

import chorus
from chorus.acts import accounts, auth, message, thread
from chorus.adapters.hub import close_hub
from chorus.celery import app as celery_app
from chorus.client import pages
from chorus.config import get_settings
from chorus.db import async_engine
from chorus.web import ForwardedClient, Problem, RequestBodyLimit, SecurityHeaders, documented, install_error_handlers

READY_TIMEOUT_SECONDS = 2
MAX_BODY_BYTES = 1024 * 1024


class Health(BaseModel):
    status: Literal["ok"] = "ok"


Probe = Literal["ok", "down"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    database: Probe
    broker: Probe
    redis: Probe | None = Field(default=None, description="Only when CHORUS_REDIS_URL is set.")


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    get_settings()  # a bad configuration stops start-up here, naming the variable
    yield
    await close_hub()
    await async_engine().dispose()


app = FastAPI(
    title="chorus",
    version=chorus.__version__,
    summary="Accounts, threads and messages, in the theatre layout.",
    lifespan=lifespan,
    separate_input_output_schemas=False,
    generate_unique_id_function=lambda route: route.name,
    # Served by the routes below, which ask the settings at request time (CHORUS_API_DOCS; off in production).
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
)
install_error_handlers(app)
# The last added runs first: headers on every answer, then the client address, then the body limit.
app.add_middleware(RequestBodyLimit, max_bytes=MAX_BODY_BYTES)
app.add_middleware(ForwardedClient, trusted=lambda: get_settings().trusted_proxies)
app.add_middleware(SecurityHeaders)


def _docs_served(request: Request) -> str:
    """The mount prefix for the docs pages' links, or 404 when CHORUS_API_DOCS (or production) turns them off."""
    if not get_settings().serves_api_docs:
        raise Problem(404, "Not Found", "not_found")
    return str(request.scope.get("root_path", "")).rstrip("/")


@app.get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request) -> JSONResponse:
    _docs_served(request)
    return JSONResponse(app.openapi())


@app.get("/docs", include_in_schema=False)
async def swagger_ui(request: Request) -> HTMLResponse:
    root = _docs_served(request)
    return get_swagger_ui_html(
        openapi_url=f"{root}/openapi.json",
        title=f"{app.title} - Swagger UI",
        oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
    )


@app.get("/docs/oauth2-redirect", include_in_schema=False)
async def swagger_ui_redirect(request: Request) -> HTMLResponse:
    _docs_served(request)
    return get_swagger_ui_oauth2_redirect_html()


@app.get("/redoc", include_in_schema=False)
async def redoc(request: Request) -> HTMLResponse:
    root = _docs_served(request)
    return get_redoc_html(openapi_url=f"{root}/openapi.json", title=f"{app.title} - ReDoc")


@app.get("/health", tags=["operations"], summary="Liveness: the process answers")
async def health() -> Health:
    return Health()


async def _database_ok() -> bool:
    async with async_engine().connect() as connection:
        await connection.execute(text("SELECT 1"))
    return True


def _broker_ok() -> bool:
    with celery_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=READY_TIMEOUT_SECONDS)
    return True


async def _redis_ok(url: str) -> bool:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=READY_TIMEOUT_SECONDS)
    try:
        return bool(await client.ping())
    finally:
        await client.aclose()


async def _probe(check: Awaitable[bool]) -> Probe:
    try:
        return "ok" if await asyncio.wait_for(check, READY_TIMEOUT_SECONDS) else "down"
    except Exception:
        return "down"


@app.get(
    "/ready",
    tags=["operations"],
    summary="Readiness: the database, the broker and Redis (if configured) answer",
    response_model_exclude_none=True,
    responses={503: {"model": Readiness, "description": "A dependency is down"}},
)
async def ready(response: Response) -> Readiness:
    redis_url = get_settings().redis_url
    checks = [_database_ok(), asyncio.to_thread(_broker_ok)] + ([_redis_ok(redis_url)] if redis_url else [])
    database, broker, *redis = await asyncio.gather(*(_probe(check) for check in checks))
    up = all(result == "ok" for result in (database, broker, *redis))
    if not up:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(
        status="ready" if up else "unavailable", database=database, broker=broker, redis=redis[0] if redis else None
    )


# After the operations routes, so that /health does not wait for every act's routes to be tried first.
for act in (auth, accounts, thread, message):
    app.include_router(act.router, responses=documented(422, 503))
app.include_router(pages.router)  # the web client, last: its paths are pages, not API
