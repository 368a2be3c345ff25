"""The API application the containers run: ``uvicorn {{ package }}.api:app``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import FastAPI, Response
from pydantic import BaseModel
from sqlalchemy import text

from {{ package }} import __version__
from {{ package }}.acts import notes
from {{ package }}.celery import app as celery_app
from {{ package }}.config import get_settings
from {{ package }}.db import async_engine
from {{ package }}.web import install_error_handlers

PROBE_SECONDS = 2
Probe = Literal["ok", "down"]


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    database: Probe
    broker: Probe
    redis: Probe | None = None


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    get_settings()  # a bad setting stops start-up here, naming its variable
    yield
    await async_engine().dispose()


app = FastAPI(
    title="{{ project }}",
    version=__version__,
    lifespan=lifespan,
    generate_unique_id_function=lambda route: route.name,  # operation ids are the scene functions' names
)
install_error_handlers(app)


@app.get("/health", tags=["operations"], summary="Liveness: the process answers")
async def health() -> Health:
    return Health()


async def _database() -> None:
    async with async_engine().connect() as connection:
        await connection.execute(text("SELECT 1"))


def _broker() -> None:
    with celery_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=PROBE_SECONDS)


async def _redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=PROBE_SECONDS)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _probe(check: Awaitable[None]) -> Probe:
    try:
        await asyncio.wait_for(check, PROBE_SECONDS + 1)
    except Exception:
        return "down"
    return "ok"


@app.get(
    "/ready",
    tags=["operations"],
    summary="Readiness: the database, the broker and Redis (when configured) answer",
    response_model_exclude_none=True,
    responses={503: {"model": Readiness, "description": "A dependency is down"}},
)
async def ready(response: Response) -> Readiness:
    redis_url = get_settings().redis_url
    checks = [_database(), asyncio.to_thread(_broker), *([_redis(redis_url)] if redis_url else [])]
    database, broker, *redis = await asyncio.gather(*map(_probe, checks))
    up = all(probe == "ok" for probe in (database, broker, *redis))
    response.status_code = 200 if up else 503
    state = "ready" if up else "unavailable"
    return Readiness(status=state, database=database, broker=broker, redis=redis[0] if redis else None)


for act in (notes,):
    app.include_router(act.router)
