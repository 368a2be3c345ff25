"""Live updates: subscribers hold ``GET /threads/{id}/events`` open on one thread (spread over the run's ten
participants, 100 connections each with the bench's ``CHORUS_STREAMS_PER_USER``) while one participant posts at a
steady rate. Every subscriber must hear every measured post: an event missing on any stream counts as lost.

Latency is from the moment the post's response arrived to the moment each subscriber's ``message.created``
event arrived (it can be below zero: the event is published before the response is written); from the moment
the post was sent is reported too. Both ends are timed by this process on one clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import orjson

from bench.machinery.client import Connection, EventStream, HttpError
from bench.machinery.cpu import CpuWatch
from bench.machinery.percentiles import summary_ms
from bench.machinery.run_threads import RunThreads
from bench.machinery.servers import Server

BATCH_TIMEOUT_SECONDS = 30  # to open one batch of streams (OPEN_AT_ONCE)
OPEN_AT_ONCE = 25  # streams opened together: 1,000 at once would outrun the API's database pools (20 a process)
OPEN_ATTEMPTS = 5  # a stream refused with 503 or 429 while the others open is asked for again, after a pause
BUSY = {429, 503}
SETTLE_TIMEOUT_SECONDS = 30
DRAIN_SECONDS = 5  # after the last post: an event not heard by then on a stream counts as lost
MEASURED = "live update"


@dataclass(frozen=True)
class LiveResult:
    subscribers: int
    posts: int
    settled: bool  # a warm-up post reached every subscriber before the measured ones
    posts_refused: int  # answered 503 or 429 (their events are not expected)
    events_expected: int
    events_received: int
    from_response: dict[str, float]
    from_request: dict[str, float]
    post_latency: dict[str, float]
    events_lost: int  # (stream, measured post) pairs with no event on that stream
    open_retries: int  # stream openings refused (503, 429) while the others opened, and asked again
    endings: dict[str, int]  # streams the server ended and the subscriber resumed, by the end event's reason
    app_cpu_ms_per_post: float  # the API processes' CPU during the posts, fan-out included, per post
    client_core_share: float  # CPU of this process (subscribers and poster) / wall time

    def as_json(self) -> dict[str, Any]:
        return {
            "subscribers": self.subscribers,
            "posts": self.posts,
            "posts_refused": self.posts_refused,
            "settled": self.settled,
            "events_expected": self.events_expected,
            "events_received": self.events_received,
            "missing_events": self.events_lost,
            "app_cpu_ms_per_post": round(self.app_cpu_ms_per_post, 2),
            "stream_open_retries": self.open_retries,
            "streams_ended_and_resumed": self.endings,
            "latency_from_post_response": self.from_response,
            "latency_from_post_request": self.from_request,
            "post_latency": self.post_latency,
            "client_core_share": round(self.client_core_share, 3),
        }


class _Subscribers:
    """Arrival times of each message's event, per message id, across every open stream.

    A stream the server ends (an ``end`` event: e.g. ``unavailable`` when its periodic re-check found no database
    connection) is resumed at once with its ``Last-Event-ID``, as ``EventSource`` does; an event heard again after a
    resume counts once, at its first arrival. The endings are counted by reason and reported."""

    def __init__(self, port: int, path: str) -> None:
        self.port, self.path = port, path
        self.arrivals: defaultdict[str, list[float]] = defaultdict(list)
        self.heard_by: defaultdict[str, set[int]] = defaultdict(set)  # message id: the streams it arrived on
        self.streams: dict[int, EventStream] = {}
        self.readers: list[asyncio.Task[None]] = []
        self.measured = 0  # events of the measured posts (their bodies start with MEASURED) heard so far
        self.expected: int | None = None
        self.all_heard = asyncio.Event()
        self.open_retries = 0  # stream openings answered 503/429 and asked again
        self.endings: Counter[str] = Counter()  # streams the server ended (and were resumed), by the end's reason

    async def _open_one(self, token: str, last_event_id: str | None = None) -> EventStream:
        for attempt in range(OPEN_ATTEMPTS):
            try:
                return await EventStream.open(self.port, self.path, token, last_event_id)
            except HttpError as error:
                if error.status not in BUSY or attempt == OPEN_ATTEMPTS - 1:
                    raise
                self.open_retries += 1
                await asyncio.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    async def open(self, tokens: list[str], count: int) -> None:
        for start in range(0, count, OPEN_AT_ONCE):
            batch = range(start, min(count, start + OPEN_AT_ONCE))
            opening = asyncio.gather(*(self._open_one(tokens[i % len(tokens)]) for i in batch))
            opened = await asyncio.wait_for(opening, BATCH_TIMEOUT_SECONDS)
            for index, stream in zip(batch, opened, strict=True):
                self.streams[index] = stream
                token = tokens[index % len(tokens)]
                self.readers.append(asyncio.create_task(self._follow(index, stream, token)))

    async def _follow(self, index: int, stream: EventStream, token: str) -> None:
        last_event_id: str | None = None
        while True:
            reason = "closed"
            async for event in stream.events():
                last_event_id = event.id or last_event_id
                if event.event == "end":
                    reason = orjson.loads(event.data).get("reason", "?") if event.data else "?"
                elif event.event == "message.created":
                    self._heard(index, orjson.loads(event.data), event.received_at)
            self.endings[reason] += 1
            await stream.close()
            while True:  # a subscriber keeps trying, as a browser's EventSource does
                try:
                    stream = self.streams[index] = await self._open_one(token, last_event_id)
                    break
                except HttpError as error:
                    if error.status not in BUSY:
                        raise

    def _heard(self, index: int, message: dict[str, Any], received_at: float) -> None:
        if index in self.heard_by[message["id"]]:
            return  # heard again after a resume
        self.arrivals[message["id"]].append(received_at)
        self.heard_by[message["id"]].add(index)
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
        await asyncio.gather(*(stream.close() for stream in self.streams.values()), return_exceptions=True)


async def _post(poster: Connection, path: str, token: str, body: str) -> tuple[str, float, float] | None:
    """The message's id, when it was sent and answered; None when the server refused it for now (503, 429)."""
    sent = time.perf_counter()
    response = await poster.send_json("POST", path, {"body": body}, token)
    answered = time.perf_counter()
    if response.status in BUSY:
        return None
    if response.status != 201:
        raise RuntimeError(f"POST {path}: {response.status} {response.body[:200]!r}")
    return str(response.json()["id"]), sent, answered


async def _settle(poster: Connection, path: str, token: str, subscribers: _Subscribers, count: int) -> bool:
    """Post until one message reached every subscriber: each stream has subscribed to the live hub by then.
    False if none did in time: the measurement goes on, and its lost events say how far it fell short."""
    deadline = time.perf_counter() + SETTLE_TIMEOUT_SECONDS
    posted_ids: list[str] = []
    while time.perf_counter() < deadline:
        if posted := await _post(poster, path, token, "warming up"):
            posted_ids.append(posted[0])
        await asyncio.sleep(0.5)
        if any(subscribers.heard(message_id) >= count for message_id in posted_ids):
            return True
    return False


async def measure_live(
    server: Server, run_threads: RunThreads, tokens: list[str], subscribers: int, posts: int, per_second: float
) -> LiveResult:
    port, thread = server.port, run_threads.live_thread_id
    listeners = _Subscribers(port, f"/threads/{thread}/events")
    await listeners.open(tokens, subscribers)
    poster = await Connection.open(port)
    messages_path = f"/threads/{thread}/messages"
    try:
        settled = await _settle(poster, messages_path, tokens[0], listeners, subscribers)
        app_cpu = CpuWatch(server.pids)
        app_cpu.start()
        usage_before, wall_before = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        timings: dict[str, tuple[float, float]] = {}
        for number in range(posts):
            due = wall_before + number / per_second
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            if posted := await _post(poster, messages_path, tokens[0], f"{MEASURED} {number}"):
                message_id, sent, answered = posted
                timings[message_id] = (sent, answered)
        listeners.expected = len(timings) * subscribers
        if listeners.measured >= listeners.expected:
            listeners.all_heard.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(listeners.all_heard.wait(), DRAIN_SECONDS)
        usage_after, wall_after = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        app_seconds = app_cpu.stop().app_seconds
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
        settled=settled,
        posts_refused=posts - len(timings),
        events_expected=len(timings) * subscribers,
        events_received=len(from_response),
        events_lost=sum(subscribers - len(listeners.heard_by.get(message_id, ())) for message_id in timings),
        open_retries=listeners.open_retries,
        endings=dict(listeners.endings),
        app_cpu_ms_per_post=1000 * app_seconds / posts if posts else 0.0,
        from_response=summary_ms(from_response),
        from_request=summary_ms(from_request),
        post_latency=summary_ms([answered - sent for sent, answered in timings.values()]),
        client_core_share=cpu / (wall_after - wall_before),
    )
