"""The HTTP edge: the client address behind proxies, safe response headers, 503s when a service does not answer
(not 500s, but bugs stay 500s), and request heads of bounded size, on the app and on the server command the Procfile,
the Dockerfile and compose run."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from ipaddress import ip_network
from pathlib import Path

import httpx2
import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from redis import exceptions as redis_errors
from sqlalchemy import exc as sa_exc
from starlette.types import Receive, Scope, Send

from chorus.api import app
from chorus.web import ForwardedClient, forwarded_client, install_error_handlers
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
TRUSTED = (ip_network("127.0.0.1"), ip_network("10.0.0.0/8"))
SERVER_FLAGS = ["--no-proxy-headers", "--http", "h11", "--h11-max-incomplete-event-size", "16384"]


def _procfile_api() -> list[str]:
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("api:"))
    return shlex.split(line.removeprefix("api:"))


def _normalised(command: list[str]) -> list[str]:
    return [part for option in command for part in option.split("=", 1)]


@contextlib.contextmanager
def procfile_api(**env: str) -> Iterator[int]:
    """The API started with the Procfile's own command (on a free port, the suite's database); yields the port."""
    command = _procfile_api()
    port = free_port()
    command[command.index("--port") + 1] = str(port)
    server = subprocess.Popen([sys.executable, "-m", *command, "--log-level", "warning"], env=os.environ | env)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the API did not start from the Procfile's command")
            time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=15)


def _raw_request(port: int, header_bytes: int, piece: int) -> bytes:
    """Send a request with one header of ``header_bytes`` in pieces of ``piece`` bytes; what the server answered
    (empty if it closed the connection)."""
    head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * header_bytes + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        try:
            for start in range(0, len(head), piece):
                connection.sendall(head[start : start + piece])
                time.sleep(0.001)
        except OSError:
            pass  # refused while still sending
        try:
            return connection.recv(4096)
        except OSError:
            return b""


def _status(answer: bytes) -> int | None:
    match = re.match(rb"HTTP/1\.1 (\d{3})", answer)
    return int(match.group(1)) if match else None


# ---- the client address ----


def test_an_untrusted_peer_keeps_its_address_whatever_it_forwards() -> None:
    assert forwarded_client("203.0.113.9", ["198.51.100.1"], TRUSTED) == "203.0.113.9"
    assert forwarded_client("203.0.113.9", ["198.51.100.1"], ()) == "203.0.113.9"


def test_a_trusted_peer_gives_the_right_most_untrusted_hop() -> None:
    # The client forged the left-most entry; the proxy appended the address it really saw.
    assert forwarded_client("127.0.0.1", ["1.2.3.4, 198.51.100.7"], TRUSTED) == "198.51.100.7"
    assert forwarded_client("127.0.0.1", ["1.2.3.4, 198.51.100.7, 10.1.2.3"], TRUSTED) == "198.51.100.7"
    assert forwarded_client("127.0.0.1", ["1.2.3.4", "198.51.100.7"], TRUSTED) == "198.51.100.7"  # repeated headers


def test_a_trusted_peer_without_or_with_a_malformed_forwarded_hop_stays_the_client() -> None:
    assert forwarded_client("127.0.0.1", [], TRUSTED) == "127.0.0.1"
    assert forwarded_client("127.0.0.1", ["1.2.3.4, not-an-address"], TRUSTED) == "127.0.0.1"
    assert forwarded_client("127.0.0.1", ["10.0.0.1"], TRUSTED) == "10.0.0.1"  # only proxies: the farthest one


async def _echo_client(scope: Scope, receive: Receive, send: Send) -> None:
    body = json.dumps({"client": scope["client"], "scheme": scope["scheme"]}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def _seen(peer: str, trusted: tuple[object, ...], **headers: str) -> dict[str, object]:
    middleware = ForwardedClient(_echo_client, trusted=lambda: trusted)  # type: ignore[arg-type]
    return dict(TestClient(middleware, client=(peer, 4321)).get("/", headers=headers).json())


def test_the_middleware_rewrites_the_client_only_behind_a_trusted_proxy() -> None:
    forged = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}
    assert _seen("203.0.113.9", TRUSTED, **forged) == {"client": ["203.0.113.9", 4321], "scheme": "http"}
    assert _seen("127.0.0.1", (), **forged) == {"client": ["127.0.0.1", 4321], "scheme": "http"}
    assert _seen("127.0.0.1", TRUSTED, **forged) == {"client": ["198.51.100.7", 0], "scheme": "https"}


def _failed_logins(port: int, attempts: int) -> list[int]:
    statuses = []
    for attempt in range(attempts):
        response = httpx2.post(
            f"http://127.0.0.1:{port}/auth/token",
            data={"username": f"nobody-{uuid.uuid4().hex[:8]}@example.com", "password": "not the password"},
            headers={"X-Forwarded-For": f"198.51.100.{attempt + 1}"},
            timeout=30,
        )
        statuses.append(response.status_code)
    return statuses


def test_rotating_x_forwarded_for_from_a_local_client_does_not_avoid_the_login_throttle() -> None:
    with procfile_api(CHORUS_LOGIN_FAILURES_PER_ADDRESS="3", CHORUS_TRUSTED_PROXIES="") as port:
        assert _failed_logins(port, 4) == [401, 401, 401, 429]


def test_behind_a_trusted_proxy_the_login_throttle_counts_the_forwarded_address() -> None:
    with procfile_api(CHORUS_LOGIN_FAILURES_PER_ADDRESS="3", CHORUS_TRUSTED_PROXIES="127.0.0.1") as port:
        assert _failed_logins(port, 4) == [401, 401, 401, 401]


# ---- response headers ----


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [("GET", "/health", 200), ("GET", "/no/such/route", 404), ("POST", "/auth/token", 422), ("GET", "/docs", 200)],
)
def test_every_answer_carries_nosniff_and_no_referrer(method: str, path: str, expected: int) -> None:
    response = TestClient(app).request(method, path)
    assert response.status_code == expected
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert "content-security-policy" not in response.headers  # /docs loads Swagger UI from a CDN


def test_an_oversized_body_answer_carries_nosniff_too() -> None:
    response = TestClient(app).post("/auth/register", content=b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.headers["x-content-type-options"] == "nosniff"


# ---- a service that does not answer ----


def _raising(error: Exception) -> TestClient:
    """An app with the edge's error handlers and one route that fails with ``error``."""
    failing = FastAPI()
    install_error_handlers(failing)

    @failing.get("/fails")
    async def fails() -> None:
        raise error

    return TestClient(failing, raise_server_exceptions=False)


def _db_error(orig: BaseException, *, kind: type[sa_exc.DBAPIError] = sa_exc.OperationalError) -> sa_exc.DBAPIError:
    return kind("SELECT 1", {}, orig)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (_db_error(sqlite3.OperationalError("database is locked")), "database_unavailable"),
        (sa_exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached"), "database_unavailable"),
        (_db_error(ConnectionRefusedError(111, "Connection refused")), "database_unavailable"),
        (redis_errors.ConnectionError("Error 111 connecting to 127.0.0.1:6379"), "unavailable"),
        (redis_errors.TimeoutError("Timeout reading from 127.0.0.1:6379"), "unavailable"),
        (ConnectionResetError(104, "Connection reset by peer"), "unavailable"),
    ],
)
def test_a_service_that_does_not_answer_is_a_503_with_retry_after(error: Exception, code: str) -> None:
    response = _raising(error).get("/fails")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] == code
    assert set(response.json()) == {"detail", "code"}
    assert int(response.headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    "error",
    [
        _db_error(sqlite3.OperationalError("no such column: nope")),
        _db_error(sqlite3.IntegrityError("NOT NULL constraint failed: users.email"), kind=sa_exc.IntegrityError),
        FileNotFoundError(2, "No such file or directory"),
        PermissionError(13, "Permission denied"),
    ],
)
def test_a_bug_stays_a_server_error(error: Exception) -> None:
    assert _raising(error).get("/fails").status_code == 500


# ---- request head size, and the server command everywhere ----


def test_a_64_kib_header_is_refused_rather_than_buffered() -> None:
    with procfile_api() as port:
        assert _status(_raw_request(port, 8 * 1024, 4096)) == 200  # an ordinary large header still passes
        assert _status(_raw_request(port, 64 * 1024, 4096)) in (400, 431, None)
        assert _status(_raw_request(port, 4 * 1024 * 1024, 1024 * 1024)) in (400, 431, None)
        assert _status(_raw_request(port, 100, 4096)) == 200  # and the server is still serving


def test_procfile_dockerfile_and_compose_run_the_api_with_the_same_safe_flags() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = json.loads(re.search(r"^CMD (\[.*?\])", dockerfile, re.MULTILINE | re.DOTALL).group(1).replace("\\\n", ""))  # type: ignore[union-attr]
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    for command in (_procfile_api(), cmd, compose["services"]["api"]["command"]):
        flags = _normalised(command)
        assert "--proxy-headers" not in flags
        for flag in SERVER_FLAGS:
            assert flag in flags, (flag, command)


def test_containers_run_in_production_and_compose_requires_the_key() -> None:
    assert re.search(r"^\s+CHORUS_ENV=production", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    environment = yaml.safe_load((ROOT / "compose.yaml").read_text())["x-chorus-env"]
    assert environment["CHORUS_ENV"] == "production"
    assert environment["CHORUS_SECRET_KEY"].startswith("${CHORUS_SECRET_KEY:?")
