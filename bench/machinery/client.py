"""A small HTTP/1.1 client on asyncio streams, for what wrk cannot do: log in, post while timing the answer, and
hold server-sent event streams open. Keep-alive connections; content-length and chunked bodies."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bench.machinery.ports import LOOPBACK


class HttpError(RuntimeError):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class ServerEvent:
    event: str
    data: str
    id: str | None
    received_at: float  # time.perf_counter() when its last byte arrived


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return int(status_line.split(" ", 2)[1]), headers


async def _chunks(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> AsyncIterator[bytes]:
    """The body as it arrives: chunked, sized by content-length, or until the server closes."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            yield await reader.readexactly(size)
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")
    elif "content-length" in headers:
        yield await reader.readexactly(int(headers["content-length"]))
    else:
        while chunk := await reader.read(65536):
            yield chunk


def _request_bytes(method: str, path: str, headers: Mapping[str, str], body: bytes | None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {LOOPBACK}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


class Connection:
    """One keep-alive connection; requests on it go one after another."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(LOOPBACK, port)
        return cls(reader, writer)

    async def request(
        self, method: str, path: str, *, headers: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> Response:
        self.writer.write(_request_bytes(method, path, headers or {}, body))
        await self.writer.drain()
        status, response_headers = await _read_head(self.reader)
        content = b"".join([chunk async for chunk in _chunks(self.reader, response_headers)])
        return Response(status, response_headers, content)

    async def send_json(self, method: str, path: str, payload: Any, token: str | None = None) -> Response:
        headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
        return await self.request(method, path, headers=headers, body=json.dumps(payload).encode())

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def log_in(port: int, email: str, password: str) -> str:
    """An access token for ``email`` (OAuth2 password flow, ``POST /auth/token``)."""
    connection = await Connection.open(port)
    try:
        form = urlencode({"username": email, "password": password}).encode()
        response = await connection.request(
            "POST", "/auth/token", headers={"Content-Type": "application/x-www-form-urlencoded"}, body=form
        )
    finally:
        await connection.close()
    if response.status != 200:
        raise HttpError(f"log in as {email}: {response.status} {response.body[:200]!r}")
    return str(response.json()["access_token"])


class EventStream:
    """A ``text/event-stream`` response, read event by event (``open`` returns once the headers arrived)."""

    def __init__(self, connection: Connection, headers: dict[str, str]) -> None:
        self.connection = connection
        self.headers = headers

    @classmethod
    async def open(cls, port: int, path: str, token: str, last_event_id: str | None = None) -> EventStream:
        connection = await Connection.open(port)
        request = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        request |= {"Last-Event-ID": last_event_id} if last_event_id is not None else {}
        connection.writer.write(_request_bytes("GET", path, request, None))
        await connection.writer.drain()
        status, headers = await _read_head(connection.reader)
        if status != 200:
            await connection.close()
            raise HttpError(f"GET {path}: {status}", status)
        return cls(connection, headers)

    async def events(self) -> AsyncIterator[ServerEvent]:
        buffer = b""
        async for chunk in _chunks(self.connection.reader, self.headers):
            buffer += chunk.replace(b"\r\n", b"\n")
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                if event := _parse_event(block.decode(), time.perf_counter()):
                    yield event

    async def close(self) -> None:
        await self.connection.close()


def _parse_event(block: str, received_at: float) -> ServerEvent | None:
    kind, data, event_id = "message", [], None
    for line in block.split("\n"):
        if not line or line.startswith(":"):
            continue  # a comment: keep-alive pings
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            kind = value
        elif field == "data":
            data.append(value)
        elif field == "id":
            event_id = value
    if not data and event_id is None:
        return None
    return ServerEvent(kind, "\n".join(data), event_id, received_at)
