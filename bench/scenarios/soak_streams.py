"""The soak's live subscribers: SSE streams on the threads being posted to, each resumed with ``Last-Event-ID``
whenever it ends (an ``end`` event, the server closing it, a broken connection), as a browser's EventSource does.

Every ``message.created`` event of a soak post (its body starts ``soak <n> ``) is counted once per stream, so a post
answered 201 is owed one event by each stream on its thread: fewer is an event lost, a repeated event id a duplicate.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable

from bench.machinery.client import Connection, EventStream, HttpError

POST_PREFIX = "soak "
RESUME_DELAY_SECONDS = 0.5
CONNECT_TIMEOUT_SECONDS = 30
SETTLE_TIMEOUT_SECONDS = 20

# A soak post's number -> (the minute of the soak it was scheduled in, when it was sent); None if not one of ours.
PostTiming = Callable[[int], tuple[int, float] | None]


class EventTally:
    """What the streams heard, summed over all of them."""

    def __init__(self, timing: PostTiming) -> None:
        self.timing = timing
        self.heard: Counter[int] = Counter()  # post number -> streams that received its event
        self.latency_by_minute: defaultdict[int, list[float]] = defaultdict(list)  # event arrival - post sent
        self.warm_ups: Counter[str] = Counter()  # message id -> streams that received it (not soak posts)
        self.duplicates = 0
        self.strangers = 0  # soak-looking events of posts this run did not send

    def hear(self, data: str, received_at: float) -> None:
        message = json.loads(data)
        body = message.get("body") or ""
        if not body.startswith(POST_PREFIX):
            self.warm_ups[str(message["id"])] += 1
            return
        number = int(body.split(" ", 2)[1])
        if (timing := self.timing(number)) is None:
            self.strangers += 1
            return
        minute, sent = timing
        self.heard[number] += 1
        self.latency_by_minute[minute].append(received_at - sent)


class Follower:
    """One subscriber's stream on one thread, for as long as ``follow`` runs (it is cancelled at the end)."""

    def __init__(self, port: int, thread_index: int, path: str, token: str, tally: EventTally) -> None:
        self.port, self.thread_index, self.path, self.token, self.tally = port, thread_index, path, token, tally
        self.last_event_id: int | None = None
        self.connected = asyncio.Event()
        self.resumes = 0
        self.ends: Counter[str] = Counter()  # why a stream ended: the end event's reason, or how it broke

    async def follow(self) -> None:
        while True:
            last = None if self.last_event_id is None else str(self.last_event_id)
            try:
                stream = await EventStream.open(self.port, self.path, self.token, last)
            except (OSError, HttpError, asyncio.IncompleteReadError, ValueError) as error:
                self.ends[f"could not reconnect: {_describe(error)}"] += 1
                await asyncio.sleep(RESUME_DELAY_SECONDS)
                continue
            self.connected.set()
            try:
                self.ends[await self._read(stream)] += 1
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                self.ends[f"broken: {_describe(error)}"] += 1
            finally:
                await stream.close()
            self.resumes += 1
            await asyncio.sleep(RESUME_DELAY_SECONDS)

    async def _read(self, stream: EventStream) -> str:
        """Count the stream's events until it ends; why it ended."""
        async for event in stream.events():
            if event.event == "end":
                return f"end: {json.loads(event.data).get('reason')}"
            if event.id is not None:
                seq = int(event.id)
                if self.last_event_id is not None and seq <= self.last_event_id:
                    self.tally.duplicates += 1
                    continue
                self.last_event_id = seq
            if event.event == "message.created":
                self.tally.hear(event.data, event.received_at)
        return "closed by the server"


def _describe(error: BaseException) -> str:
    return str(error) if isinstance(error, HttpError) else type(error).__name__


class Followers:
    """Every subscriber: ``count`` streams spread evenly over the threads, and over the members on each."""

    def __init__(self, port: int, thread_ids: list[str], tokens: list[str], count: int, timing: PostTiming) -> None:
        self.port = port
        self.thread_ids = thread_ids
        self.tally = EventTally(timing)
        self.followers = [
            Follower(
                port,
                index % len(thread_ids),
                f"/threads/{thread_ids[index % len(thread_ids)]}/events",
                tokens[(index // len(thread_ids)) % len(tokens)],
                self.tally,
            )
            for index in range(count)
        ]
        self.per_thread = Counter(follower.thread_index for follower in self.followers)
        self._tasks: list[asyncio.Task[None]] = []

    async def open(self) -> None:
        self._tasks = [asyncio.create_task(follower.follow()) for follower in self.followers]
        connected = [follower.connected.wait() for follower in self.followers]
        await asyncio.wait_for(asyncio.gather(*connected), CONNECT_TIMEOUT_SECONDS)

    async def settle(self, token: str) -> None:
        """Post to every thread until each of its streams heard the post: every stream is on the hub by then."""
        poster = await Connection.open(self.port)
        deadline = time.perf_counter() + SETTLE_TIMEOUT_SECONDS
        waiting = set(range(len(self.thread_ids)))
        try:
            while waiting and time.perf_counter() < deadline:
                posted = {index: await self._warm_up(poster, index, token) for index in waiting}
                await asyncio.sleep(0.5)
                waiting = {index for index, id in posted.items() if self.tally.warm_ups[id] < self.per_thread[index]}
        finally:
            await poster.close()
        if waiting:
            raise RuntimeError(
                f"soak: the streams of {len(waiting)} threads did not hear a post within {SETTLE_TIMEOUT_SECONDS} s"
            )

    async def _warm_up(self, poster: Connection, index: int, token: str) -> str:
        path = f"/threads/{self.thread_ids[index]}/messages"
        response = await poster.send_json("POST", path, {"body": "warming up"}, token)
        if response.status != 201:
            raise RuntimeError(f"soak: POST {path}: {response.status} {response.body[:200]!r}")
        return str(response.json()["id"])

    def expected_for(self, number: int) -> int:
        """Streams owed the event of soak post ``number`` (posts go to the threads in turn)."""
        return self.per_thread[number % len(self.thread_ids)]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def resumes(self) -> int:
        return sum(follower.resumes for follower in self.followers)

    @property
    def ends(self) -> Counter[str]:
        return sum((follower.ends for follower in self.followers), Counter())
