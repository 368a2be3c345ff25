"""The scenes' shared HTTP edge: the request's database session, and every error as ``{"detail", "code"}``.

At the package root because api.py and every act's scenes use it; it is web-only, so no task imports it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException

from {{ package }}.db import request_session
from {{ package }}.schema.errors import ErrorBody

DatabaseSession = Annotated[AsyncSession, Depends(request_session)]
logger = logging.getLogger(__name__)


class Problem(HTTPException):
    """An error a scene answers on purpose, with a stable ``code`` clients can switch on."""

    def __init__(self, status_code: int, detail: str, code: str) -> None:
        super().__init__(status_code=status_code, detail=detail)
        self.code = code


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a scene can answer."""
    return {status: {"model": ErrorBody, "description": HTTPStatus(status).phrase} for status in statuses}


def _code_for(status_code: int) -> str:
    """``not_found`` for 404, ``method_not_allowed`` for 405...: the status's phrase as an identifier."""
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def _answer(status_code: int, body: ErrorBody, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status_code, headers=headers)


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, StarletteHTTPException):
        raise error
    code = getattr(error, "code", None) or _code_for(error.status_code)
    return _answer(error.status_code, ErrorBody(detail=str(error.detail), code=code), error.headers)


async def _invalid_request(_: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, RequestValidationError):
        raise error
    errors = [{"loc": list(e["loc"]), "msg": str(e["msg"]), "type": str(e["type"])} for e in error.errors()]
    summary = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
    return _answer(422, ErrorBody(detail=f"invalid request: {summary}", code="validation_error", errors=errors))


async def _unexpected(_: Request, error: Exception) -> JSONResponse:
    logger.error("unhandled error", exc_info=error)
    return _answer(500, ErrorBody(detail="internal server error", code="internal_error"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _unexpected)
