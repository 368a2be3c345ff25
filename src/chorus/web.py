"""What every scene shares with the web framework: the request's database session, and errors answered as
``{"detail": ..., "code": ...}`` with the right 4xx status."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chorus.db import session_scope
from chorus.schema.errors import ErrorBody

DatabaseSession = Annotated[AsyncSession, Depends(session_scope)]


class Problem(HTTPException):
    """An error a scene raises on purpose, with a stable ``code`` clients can switch on."""

    def __init__(self, status_code: int, detail: str, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=headers)
        self.code = code


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error statuses a scene can answer."""
    return {status: {"model": ErrorBody, "description": HTTPStatus(status).phrase} for status in statuses}


def _default_code(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and not isinstance(exc, Problem):
        # The framework could not parse the body at all (not UTF-8, a multipart form without a boundary):
        # answered like any other invalid body, with the 422 every operation documents.
        error = {"loc": ["body"], "msg": str(exc.detail), "type": "body_unparsable"}
        body = ErrorBody(detail=f"invalid request: body: {exc.detail}", code="validation_error", errors=[error])
        return JSONResponse(body.model_dump(exclude_none=True), status_code=422)
    code = getattr(exc, "code", None) or _default_code(exc.status_code)
    body = ErrorBody(detail=str(exc.detail), code=code)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=exc.status_code, headers=exc.headers)


def _describe(error: dict[str, Any]) -> dict[str, Any]:
    location = [str(part) for part in error.get("loc", ())]
    return {"loc": location, "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))}


def _summarise(error: dict[str, Any]) -> str:
    if error["type"] == "json_invalid":
        return f"malformed JSON body ({error['msg']})"
    where = ".".join(error["loc"][1:]) or ".".join(error["loc"])
    return f"{where}: {error['msg']}"


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_describe(error) for error in exc.errors()]
    summary = "; ".join(_summarise(error) for error in errors[:5])
    body = ErrorBody(detail=f"invalid request: {summary}", code="validation_error", errors=errors)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=422)


class RequestBodyLimit:
    """Answer 413 in the error shape to a body over ``max_bytes``, whether declared up front or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            body = ErrorBody(detail=self._detail(), code="request_too_large")
            await JSONResponse(body.model_dump(exclude_none=True), status_code=413)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise Problem(413, self._detail(), "request_too_large")
            return message

        await self.app(scope, counted, send)

    def _detail(self) -> str:
        return f"request body larger than {self.max_bytes} bytes"


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
