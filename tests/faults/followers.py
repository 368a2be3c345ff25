"""A live reader of a thread that behaves like a browser's EventSource: it follows the stream and, whenever the stream
ends, reconnects with the id of the last event it was given as Last-Event-ID. Fault tests count what it received."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx2

from tests.people import Person
from tests.timing import until

RECONNECT_SECONDS = 0.2  # EventSource waits about 3 s by default; shorter keeps the tests fast


class Follower:
    """Reads ``/threads/{id}/events`` in a thread of its own, reconnecting after every end, until `stop`."""

    def __init__(self, base_url: str, person: Person, thread_id: str) -> None:
        self.url = f"{base_url}/threads/{thread_id}/events"
        self.person = person
        self.events: list[dict[str, str]] = []  # every event but the ends, in order of arrival
        self.ends: list[str] = []  # the reasons the stream gave when it ended
        self.refusals: list[int] = []  # statuses of connections that were not streams
        self._last_id: str | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._connected = threading.Event()
        threading.Thread(target=self._follow, name="follower", daemon=True).start()
        if not self._connected.wait(15):
            raise AssertionError("the event stream did not answer")

    def stop(self) -> None:
        self._stopped.set()

    def bodies(self) -> list[str]:
        """The bodies of the messages it heard of, in order of arrival."""
        with self._lock:
            return [json.loads(e["data"])["body"] for e in self.events if e.get("event") == "message.created"]

    def ids(self) -> list[int]:
        with self._lock:
            return [int(e["id"]) for e in self.events]

    def wait_for_body(self, body: str, timeout: float) -> None:
        until(lambda: body in self.bodies(), timeout)

    def _follow(self) -> None:
        while not self._stopped.is_set():
            headers = self.person.headers | ({"Last-Event-ID": self._last_id} if self._last_id else {})
            try:
                with httpx2.stream("GET", self.url, headers=headers, timeout=httpx2.Timeout(10, read=60)) as response:
                    if response.status_code != 200:
                        self.refusals.append(response.status_code)
                    else:
                        self._connected.set()
                        self._read(response)
            except httpx2.HTTPError:
                pass  # the connection broke: reconnect, as EventSource does
            time.sleep(RECONNECT_SECONDS)

    def _read(self, response: Any) -> None:
        event: dict[str, str] = {}
        for line in response.iter_lines():
            if self._stopped.is_set():
                return
            if not line:
                if event:
                    self._take(event)
                event = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                event[name] = value.removeprefix(" ")

    def _take(self, event: dict[str, str]) -> None:
        with self._lock:
            if "id" in event:
                self._last_id = event["id"]
            if event.get("event") == "end":
                self.ends.append(json.loads(event["data"])["reason"])
            else:
                self.events.append(event)
