"""Requests from another client address through the suite's one test client (and so on the app's one event loop,
which the database and Redis connection pools are bound to)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient


@contextlib.contextmanager
def from_address(client: TestClient, address: str) -> Iterator[TestClient]:
    transport: Any = client._transport  # the ASGI transport carries the scope's client address
    before = transport.client
    transport.client = (address, 50000)
    try:
        yield client
    finally:
        transport.client = before
