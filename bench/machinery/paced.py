"""An open-loop load at fixed rates (as wrk2 does; wrk itself cannot hold a rate): each kind of request is sent on
its own schedule, whatever the answers to earlier ones, on a pool of keep-alive connections.

Latency counts from the moment the schedule said to send, so a slow server (or a pool whose connections are all
busy) shows in it instead of slowing the schedule down; a request not answered 10 s after that moment is a timeout.
The driver's own lateness, from the schedule to the moment it handed the request on, is recorded too: when that
grows, this process could not keep up.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bench.machinery.client import Connection, HttpError

REQUEST_TIMEOUT_SECONDS = 10.0
# uvicorn closes a keep-alive connection after 5 s without a request; one idle this long is not reused, so the
# server's close never meets a request in flight.
IDLE_REUSE_SECONDS = 3.0
MAX_CONNECTIONS = 128


@dataclass(frozen=True)
class PacedRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes | None = None


@dataclass(frozen=True)
class Pace:
    kind: str
    per_second: float
    request: Callable[[int], PacedRequest]  # the n-th request of this kind


@dataclass(slots=True)
class Record:
    """One request's times (``time.perf_counter()``) and how it ended: a status, or an error's name."""

    intended: float
    dispatched: float = 0.0  # when the schedule handed it on (driver lateness: dispatched - intended)
    sent: float = 0.0  # when a connection was free and its bytes went out (0: never)
    done: float = 0.0
    status: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def failure(self) -> str | None:
        """None if answered 2xx, else what went wrong: ``status 503``, ``timeout``, an exception's name."""
        if self.ok:
            return None
        return self.error or f"status {self.status}"


class PacedLoad:
    """Sends every pace's requests on schedule for a while; ``records[kind][n]`` is the n-th request of a kind."""

    def __init__(self, port: int, paces: list[Pace], max_connections: int = MAX_CONNECTIONS) -> None:
        self.port = port
        self.paces = paces
        self.records: dict[str, list[Record]] = {pace.kind: [] for pace in paces}
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: deque[tuple[Connection, float]] = deque()
        self._in_flight: set[asyncio.Task[None]] = set()
        self.connections_opened = 0
        self.failed = 0  # so far, for progress lines (the records say which and why)

    async def run(self, start: float, seconds: float) -> None:
        """Send on schedule from ``start`` (a ``perf_counter`` time) for ``seconds``; returns once the last request
        is sent, not answered (``finish`` waits for the answers)."""
        await asyncio.gather(*(self._schedule(pace, start, start + seconds) for pace in self.paces))

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def finish(self) -> int:
        """Wait for the requests still out; those that outlast their timeout (and a little) are cancelled, and
        counted."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=REQUEST_TIMEOUT_SECONDS + 5)
        abandoned = len(self._in_flight)
        for task in list(self._in_flight):
            task.cancel()
        await asyncio.gather(*self._in_flight, return_exceptions=True)
        while self._idle:
            await self._idle.pop()[0].close()
        return abandoned

    async def _schedule(self, pace: Pace, start: float, end: float) -> None:
        records = self.records[pace.kind]
        number = 0
        while (due := start + number / pace.per_second) < end:
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            record = Record(intended=due, dispatched=time.perf_counter())
            records.append(record)
            task = asyncio.create_task(self._send(pace.request(number), record))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
            number += 1

    async def _send(self, request: PacedRequest, record: Record) -> None:
        """Send on a free connection and read the answer, within a client's patience: ``REQUEST_TIMEOUT_SECONDS``
        from the moment the schedule said to send, waiting for a free connection included."""
        connection: Connection | None = None
        holds_slot = reusable = False
        try:
            async with asyncio.timeout(record.intended + REQUEST_TIMEOUT_SECONDS - time.perf_counter()):
                await self._slots.acquire()
                holds_slot = True
                connection = await self._connection()
                record.sent = time.perf_counter()
                response = await connection.request(
                    request.method, request.path, headers=request.headers, body=request.body
                )
            record.status = response.status
            reusable = response.headers.get("connection", "").lower() != "close"
        except TimeoutError:
            record.error = "timeout" if record.sent else "timeout, no free connection"
        except asyncio.CancelledError:
            record.error = "unanswered when the driver stopped waiting"
            raise
        except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, HttpError) as error:
            record.error = type(error).__name__
        except ValueError as error:  # an answer that is not HTTP
            record.error = f"bad answer ({type(error).__name__})"
        finally:
            record.done = time.perf_counter()
            self.failed += not record.ok
            if connection is not None and reusable:
                self._idle.append((connection, record.done))
            elif connection is not None:
                await connection.close()
            if holds_slot:
                self._slots.release()

    async def _connection(self) -> Connection:
        """The most recently used idle connection, or a new one; those idle too long are closed on the way."""
        now = time.perf_counter()
        while self._idle and now - self._idle[0][1] >= IDLE_REUSE_SECONDS:
            await self._idle.popleft()[0].close()
        while self._idle:
            connection, _ = self._idle.pop()
            if not connection.reader.at_eof():
                return connection
            await connection.close()
        self.connections_opened += 1
        return await Connection.open(self.port)
