"""Live updates: subscribers hold ``GET /threads/{id}/events`` open on one thread (spread over the participants,
ten connections each, as on several devices) while one participant posts at a steady rate.

Latency is from the moment the post's response arrived to the moment each subscriber's ``message.created``
event arrived (it can be below zero: the event is published before the response is written); from the moment
the post was sent is reported too. Both ends are timed by this process on one clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from bench.machinery.client import Connection, EventStream
from bench.machinery.percentiles import summary_ms
from bench.machinery.run_threads import RunThreads

CONNECT_TIMEOUT_SECONDS = 30
SETTLE_TIMEOUT_SECONDS = 20
DRAIN_SECONDS = 5
MEASURED = "live update"


@dataclass(frozen=True)
class LiveResult:
    subscribers: int
    posts: int
    events_expected: int
    events_received: int
    from_response: dict[str, float]
    from_request: dict[str, float]
    post_latency: dict[str, float]
    client_core_share: float  # CPU of this process (subscribers and poster) / wall time

    @property
    def missing(self) -> int:
        return self.events_expected - self.events_received

    def as_json(self) -> dict[str, Any]:
        return {
            "subscribers": self.subscribers,
            "posts": self.posts,
            "events_expected": self.events_expected,
            "events_received": self.events_received,
            "missing_events": self.missing,
            "latency_from_post_response": self.from_response,
            "latency_from_post_request": self.from_request,
            "post_latency": self.post_latency,
            "client_core_share": round(self.client_core_share, 3),
        }


class _Subscribers:
    """Arrival times of each message's event, per message id, across every open stream."""

    def __init__(self) -> None:
        self.arrivals: defaultdict[str, list[float]] = defaultdict(list)
        self.streams: list[EventStream] = []
        self.readers: list[asyncio.Task[None]] = []
        self.measured = 0  # events of the measured posts (their bodies start with MEASURED) heard so far
        self.expected: int | None = None
        self.all_heard = asyncio.Event()

    async def open(self, port: int, path: str, tokens: list[str], count: int) -> None:
        opening = [EventStream.open(port, path, tokens[index % len(tokens)]) for index in range(count)]
        self.streams = await asyncio.wait_for(asyncio.gather(*opening), CONNECT_TIMEOUT_SECONDS)
        self.readers = [asyncio.create_task(self._read(stream)) for stream in self.streams]

    async def _read(self, stream: EventStream) -> None:
        async for event in stream.events():
            if event.event == "message.created":
                message = json.loads(event.data)
                self.arrivals[message["id"]].append(event.received_at)
                if message["body"].startswith(MEASURED):
                    self.measured += 1
                    if self.expected is not None and self.measured >= self.expected:
                        self.all_heard.set()

    def heard(self, message_id: str) -> int:
        return len(self.arrivals.get(message_id, ()))

    async def close(self) -> None:
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        await asyncio.gather(*(stream.close() for stream in self.streams), return_exceptions=True)


async def _post(poster: Connection, path: str, token: str, body: str) -> tuple[str, float, float]:
    sent = time.perf_counter()
    response = await poster.send_json("POST", path, {"body": body}, token)
    answered = time.perf_counter()
    if response.status != 201:
        raise RuntimeError(f"POST {path}: {response.status} {response.body[:200]!r}")
    return str(response.json()["id"]), sent, answered


async def _settle(poster: Connection, path: str, token: str, subscribers: _Subscribers, count: int) -> None:
    """Post until one message reached every subscriber: each stream has subscribed to the live hub by then."""
    deadline = time.perf_counter() + SETTLE_TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        message_id, _, _ = await _post(poster, path, token, "warming up")
        await asyncio.sleep(0.5)
        if subscribers.heard(message_id) >= count:
            return
    raise RuntimeError(f"live: not every one of {count} subscribers heard a post within {SETTLE_TIMEOUT_SECONDS} s")


async def measure_live(
    port: int, run_threads: RunThreads, tokens: list[str], subscribers: int, posts: int, per_second: float
) -> LiveResult:
    thread = run_threads.live_thread_id
    listeners = _Subscribers()
    await listeners.open(port, f"/threads/{thread}/events", tokens, subscribers)
    poster = await Connection.open(port)
    messages_path = f"/threads/{thread}/messages"
    try:
        await _settle(poster, messages_path, tokens[0], listeners, subscribers)
        usage_before, wall_before = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        timings: dict[str, tuple[float, float]] = {}
        listeners.expected = posts * subscribers
        for number in range(posts):
            due = wall_before + number / per_second
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            message_id, sent, answered = await _post(poster, messages_path, tokens[0], f"{MEASURED} {number}")
            timings[message_id] = (sent, answered)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(listeners.all_heard.wait(), DRAIN_SECONDS)
        usage_after, wall_after = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    finally:
        await poster.close()
        await listeners.close()
    from_response, from_request = [], []
    for message_id, (sent, answered) in timings.items():
        for arrived in listeners.arrivals.get(message_id, ()):
            from_response.append(arrived - answered)
            from_request.append(arrived - sent)
    cpu = (usage_after.ru_utime + usage_after.ru_stime) - (usage_before.ru_utime + usage_before.ru_stime)
    return LiveResult(
        subscribers=subscribers,
        posts=posts,
        events_expected=posts * subscribers,
        events_received=len(from_response),
        from_response=summary_ms(from_response),
        from_request=summary_ms(from_request),
        post_latency=summary_ms([answered - sent for sent, answered in timings.values()]),
        client_core_share=cpu / (wall_after - wall_before),
    )
