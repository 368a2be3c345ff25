"""The API probe reads every route's path, endpoint and methods without building it again: the same as FastAPI's
own ``iter_route_contexts`` says, for routers included at any depth and routes of every kind."""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, WebSocket, routing
from fastapi.routing import APIRoute
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from theatre.probes.launcher import INSIDE


def _inside() -> ModuleType:
    spec = importlib.util.spec_from_file_location("theatre_probe_inside", INSIDE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LoggedRoute(APIRoute):
    """A project's own route class."""


async def plain(_: Any) -> PlainTextResponse:
    return PlainTextResponse("plain")


def _app() -> FastAPI:
    leaf = APIRouter(prefix="/leaf", tags=["leaf"])

    @leaf.get("/{item_id}")
    async def read(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @leaf.api_route("/both", methods=["get", "post"])
    async def both() -> None:
        return None

    @leaf.websocket("/socket")
    async def socket(websocket: WebSocket) -> None:
        await websocket.close()

    leaf.routes.append(Route("/plain", plain, methods=["PUT"]))
    leaf.routes.append(Mount("/static", routes=[Route("/file", plain)]))

    logged = APIRouter(route_class=LoggedRoute)

    @logged.delete("/logged", status_code=204)
    async def remove() -> None:
        return None

    middle = APIRouter(prefix="/middle")
    middle.include_router(leaf, prefix="/inner")
    middle.include_router(logged)
    act = APIRouter(prefix="/act")
    act.include_router(middle)

    @act.get("")
    async def index() -> None:
        return None

    app = FastAPI()

    @app.get("/health")
    async def health() -> None:
        return None

    app.include_router(act, prefix="/v1")
    app.include_router(act)
    return app


@pytest.mark.skipif(not hasattr(routing, "iter_route_contexts"), reason="FastAPI without included-router contexts")
def test_routes_are_read_as_fastapi_serves_them() -> None:
    inside = _inside()
    app = _app()
    expected = [
        route
        for route in (
            {
                "endpoint": route.endpoint,
                "methods": sorted(getattr(route, "methods", None) or []),
                "path": route.path,
            }
            for route in routing.iter_route_contexts(list(app.routes))
        )
        if route["endpoint"] is not None and route["path"] is not None
    ]
    found = [
        {"endpoint": route.endpoint, "methods": sorted(getattr(route, "methods", None) or []), "path": route.path}
        for route in inside._flattened(app.routes)
        if getattr(route, "endpoint", None) is not None and getattr(route, "path", None) is not None
    ]
    assert found == expected
    assert {route["path"] for route in found} >= {"/v1/act/middle/inner/leaf/{item_id}", "/act/middle/logged"}
    read = inside._routes(app.routes)
    assert [(route["path"], route["methods"]) for route in read] == [(r["path"], r["methods"]) for r in expected]
