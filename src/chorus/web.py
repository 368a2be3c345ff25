"""What every scene shares with the web framework: the request's database session, errors answered as
``{"detail": ..., "code": ...}`` with the right 4xx status, and the HTTP edge's guards (body limit, the client
address behind trusted proxies, safe response headers)."""

from __future__ import annotations

import logging
import socket
import traceback
import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Annotated, Any, get_args

import orjson
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis import exceptions as redis_errors
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chorus.config import get_settings
from chorus.db import database_unreachable, session_scope
from chorus.schema.errors import ErrorBody

logger = logging.getLogger(__name__)

DatabaseSession = Annotated[AsyncSession, Depends(session_scope)]


class Problem(HTTPException):
    """An error a scene raises on purpose, with a stable ``code`` clients can switch on."""

    def __init__(self, status_code: int, detail: str, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=headers)
        self.code = code


def _uuid_text(value: Any) -> str:
    # asyncpg hands out its own UUID subclass, which orjson does not take for a UUID.
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def json_bytes_response(content: dict[str, Any]) -> Response:
    """``content`` (dicts, lists, str, int, None, UUIDs and UTC datetimes) as the JSON pydantic's
    ``model_dump(mode="json")`` would make of it, without validating it: for rows whose shape is fixed."""
    body = orjson.dumps(content, default=_uuid_text, option=orjson.OPT_UTC_Z)
    return Response(body, media_type="application/json")


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


Network = IPv4Network | IPv6Network


def _parse_address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text.strip())
    except ValueError:
        return None


def forwarded_client(peer: str, forwarded_for: Iterable[str], trusted: Iterable[Network]) -> str:
    """The client's address: the immediate peer, unless it is a trusted proxy; then the right-most address in
    X-Forwarded-For that is not itself a trusted proxy (what lies further left was written by the client)."""
    networks = tuple(trusted)

    def is_trusted(address: IPv4Address | IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in networks)

    if not is_trusted(_parse_address(peer)):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        address = _parse_address(hop)
        if address is None:
            break  # a malformed hop: nothing further left can be believed; keep the last trusted proxy
        client = str(address)
        if not is_trusted(address):
            break
    return client


class ForwardedClient:
    """Set the ASGI client address from X-Forwarded-For only when the immediate peer is a trusted proxy.

    ``trusted`` is called per request (the settings load on first use, not at import); uvicorn runs with
    ``--no-proxy-headers`` so that this is the only place a forwarded address is believed."""

    def __init__(self, app: ASGIApp, trusted: Callable[[], Iterable[Network]]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        trusted = tuple(self.trusted()) if scope["type"] in ("http", "websocket") and client else ()
        if trusted and client:
            headers = Headers(scope=scope)
            forwarded = headers.getlist("x-forwarded-for")
            address = forwarded_client(client[0], forwarded, trusted)
            if address != client[0]:
                scope = dict(scope, client=(address, 0))
                proto = headers.get("x-forwarded-proto", "").strip().lower()
                if proto in ("http", "https") and scope["type"] == "http":
                    scope["scheme"] = proto
        await self.app(scope, receive, send)


SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),  # never render a JSON answer as HTML or script
    (b"referrer-policy", b"no-referrer"),  # no URL (with its ids or query) leaks to another site
    (b"x-frame-options", b"DENY"),  # nothing here is meant to be framed
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeaders:
    """Add cheap, safe response headers to every answer (no Content-Security-Policy: /docs loads its scripts
    from a CDN); a header a route set itself is kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in SECURITY_HEADERS if name not in present)
                message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, with_headers)


RETRY_SOON = {"Retry-After": "5"}

# Each limited route: the setting that limits it per client address, and the one per account (None: anonymous).
ROUTE_LIMITS: dict[str, tuple[str, str | None]] = {
    "register": ("auth_requests_per_address", None),
    "verify_email": ("auth_requests_per_address", None),
    "resend_verification": ("auth_requests_per_address", None),
    "forgot_password": ("auth_requests_per_address", None),
    "reset_password": ("auth_requests_per_address", None),
    "people_search": ("searches_per_address", "searches_per_account"),
    "create_thread": ("thread_writes_per_address", "threads_per_account"),
    "add_participant": ("thread_writes_per_address", "participant_adds_per_account"),
}


def client_address(request: Request) -> str:
    """The client's address as the edge resolved it (`ForwardedClient`), the key of per-address limits."""
    return request.client.host if request.client else "unknown"


async def enforce_limit(setting: str, *identifiers: str) -> None:
    """Count one request against the rate in ``setting``: 429 with Retry-After over it, 503 if the store is down."""
    from chorus.adapters import rate_limits

    item = rate_limits.parse(getattr(get_settings(), setting))
    try:
        wait = await rate_limits.hit(item, *identifiers)
    except rate_limits.LimitsUnavailable:
        raise Problem(
            503, "rate limiting is unavailable; try again shortly", "unavailable", {"Retry-After": "5"}
        ) from None
    if wait:
        raise Problem(429, "too many requests; try again later", "rate_limited", {"Retry-After": str(wait)})


def rate_limited(route: str, account: Any = None) -> Any:
    """A dependency (for a route's ``dependencies=[...]``) limiting ``route`` per client address and, given the
    dependency that resolves the caller (e.g. ``CurrentUser``), per account; the limits are in `ROUTE_LIMITS`."""
    per_address, per_account = ROUTE_LIMITS[route]
    if account is None or per_account is None:

        async def by_address(request: Request) -> None:
            await enforce_limit(per_address, route, "address", client_address(request))

        return Depends(by_address)
    resolve = next(part for part in get_args(account)[1:] if hasattr(part, "dependency"))
    account_setting = per_account

    async def by_account_and_address(request: Request, who: Any = resolve) -> None:
        await enforce_limit(account_setting, route, "account", str(who.id))
        await enforce_limit(per_address, route, "address", client_address(request))

    return Depends(by_account_and_address)


def _raised_through(error: BaseException, package: str) -> bool:
    return any(
        str(frame.f_globals.get("__name__", "")).partition(".")[0] == package
        for frame, _ in traceback.walk_tb(error.__traceback__)
    )


# Redis, or another service's socket or host name (gaierror): what says a service did not answer. Not file errors.
_UNANSWERED = (redis_errors.ConnectionError, redis_errors.TimeoutError, ConnectionError, TimeoutError, socket.gaierror)


def _what_is_down(error: Exception) -> tuple[str, str] | None:
    """``(code, detail)`` when ``error`` says a service the request needs did not answer; None for anything else
    (a bug, bad data), which stays a server error. asyncpg's socket errors and timeouts reach here unwrapped, so an
    error raised through SQLAlchemy is the database's whatever its class."""
    if isinstance(error, sa_exc.SQLAlchemyError) or _raised_through(error, "sqlalchemy"):
        if database_unreachable(error):
            return "database_unavailable", "the database is unavailable; try again shortly"
        return None
    if isinstance(error, _UNANSWERED):
        return "unavailable", "a service this request needs is unavailable; try again shortly"
    return None


async def _dependency_down(request: Request, exc: Exception) -> JSONResponse:
    """503 with Retry-After, in the error shape, when the database or another service did not answer in time."""
    down = _what_is_down(exc)
    if down is None:
        raise exc
    code, detail = down
    cause = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc  # not the statement's parameters
    logger.warning("%s %s: 503 %s (%s: %s)", request.method, request.url.path, code, type(cause).__name__, cause)
    body = ErrorBody(detail=detail, code=code)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=503, headers=RETRY_SOON)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # The classes a dependency's outage surfaces as; each answer is decided by `_what_is_down`.
    outages = (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError, redis_errors.ConnectionError, redis_errors.TimeoutError)
    for outage in outages:
        app.add_exception_handler(outage, _dependency_down)
