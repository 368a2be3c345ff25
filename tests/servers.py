"""Real API processes for tests that cross a process boundary (live updates), and a server-sent-events reader."""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def api_process(**env: str) -> Iterator[str]:
    """``uvicorn chorus.api:app`` in its own process, on the suite's database; yields its base URL."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "chorus.api:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--timeout-graceful-shutdown",
            "1",
        ],
        env=os.environ | env,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(f"{base_url}/health").status_code == 200:
                    break
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API process on port {port} did not start")
            time.sleep(0.1)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            raise


class EventStream:
    """Reads a server-sent-events stream in a thread; ``next()`` returns each event as a dict, None at the end."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.status: int | None = None
        self._events: queue.Queue[dict[str, str] | None] = queue.Queue()
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self._thread.start()
        if not self._connected.wait(15):
            raise AssertionError("the event stream did not answer")

    def _read(self, url: str, headers: dict[str, str]) -> None:
        try:
            with httpx2.stream("GET", url, headers=headers, timeout=httpx2.Timeout(10, read=60)) as response:
                self.status = response.status_code
                self._connected.set()
                event: dict[str, str] = {}
                for line in response.iter_lines():
                    if not line:
                        if event:
                            self._events.put(event)
                        event = {}
                    elif not line.startswith(":"):
                        name, _, value = line.partition(":")
                        event[name] = value.removeprefix(" ")
        except httpx2.HTTPError:
            pass  # the server went away: the stream has ended
        finally:
            self._connected.set()
            self._events.put(None)

    def next(self, timeout: float = 10) -> dict[str, str] | None:
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout}s") from None

    def take(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        events = [self.next(timeout) for _ in range(count)]
        assert None not in events, f"the stream ended early: {events}"
        return events  # type: ignore[return-value]
