"""Redis cut or partitioned under live subscribers: nothing is lost, nothing doubled, and live updates come back by
themselves.

The hub drops every local stream with a clean ``end`` ("interrupted") when its subscription is lost, and the streams
that opened during the outage once it is back; each resumes with Last-Event-ID, as a browser's EventSource does, and
replays the thread's event log. Posts never wait for Redis.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator

import httpx2
import pytest

from chorus.adapters.hub import SubscriberDropped
from chorus.adapters.redis_hub import RECONNECT_CAP_SECONDS, RedisHub
from chorus.config import get_settings
from tests.faults.followers import Follower
from tests.people import Person, make_person
from tests.servers import api_process
from tests.services import Proxies
from tests.timing import timed, until

PROMPT_POST_SECONDS = 1.0
REDIS_TIMEOUT = get_settings().redis_timeout_seconds
LOSS_NOTICED_WITHIN = 3 * REDIS_TIMEOUT + 1  # a partition: silent for twice the timeout after a ping, then dropped
BACK_WITHIN = RECONNECT_CAP_SECONDS + 2 * REDIS_TIMEOUT + 1  # the next attempt, and its subscription confirmed
DELIVERED_WITHIN = 15.0


@pytest.fixture(scope="module")
def apis() -> Iterator[tuple[str, str]]:
    """Two API processes on the suite's proxied Redis: posts go through one, streams are read from both."""
    with api_process() as one, api_process() as two:
        yield one, two


def _thread(api: str, owner: Person, *others: Person) -> str:
    body = {"title": "Outage", "participant_ids": [str(p.id) for p in others]}
    response = httpx2.post(f"{api}/threads", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


class _Posts:
    """Messages posted to one thread, each timed."""

    def __init__(self, api: str, person: Person, thread_id: str) -> None:
        self.url = f"{api}/threads/{thread_id}/messages"
        self.person = person
        self.bodies: list[str] = []
        self.slowest = 0.0

    def post(self, body: str) -> None:
        response, elapsed = timed(lambda: httpx2.post(self.url, json={"body": body}, headers=self.person.headers))
        assert response.status_code == 201, response.text
        self.bodies.append(body)
        self.slowest = max(self.slowest, elapsed)


def _heard_each_once(follower: Follower, expected: list[str]) -> None:
    follower.wait_for_body(expected[-1], DELIVERED_WITHIN)
    assert follower.bodies() == expected
    ids = follower.ids()
    assert ids == list(range(ids[0], ids[0] + len(ids))), f"event ids not each once and gapless: {ids}"


def _no_event_lost(apis: tuple[str, str], fault: Callable[[], None], heal: Callable[[], None]) -> dict[str, float]:
    """Followers connected before, during and after the outage hear every message posted after they connected,
    once each and in order; posts during the outage answer promptly. Returns the figures measured."""
    one, two = apis
    ada, bob = make_person("Ada Lovelace"), make_person("Bob Babbage")
    thread_id = _thread(one, ada, bob)
    posts = _Posts(one, ada, thread_id)
    before = [Follower(one, bob, thread_id), Follower(two, bob, thread_id)]
    posts.post("before 1")
    for follower in before:
        follower.wait_for_body("before 1", DELIVERED_WITHIN)  # live, in the posting process and across processes
    posts.post("before 2")

    fault()
    started = time.monotonic()
    posts.post("during 1")
    # Both processes notice and drop their streams cleanly (an outage shorter than that is no gap: the held bytes
    # and the publisher's retries arrive in order once it ends).
    until(lambda: all("interrupted" in follower.ends for follower in before), LOSS_NOTICED_WITHIN)
    noticed = time.monotonic() - started
    during = Follower(one, bob, thread_id)
    joined_during = len(posts.bodies)
    for n in range(2, 5):
        posts.post(f"during {n}")
    during_posts = posts.slowest

    heal()
    healed = time.monotonic()
    # No new stream comes to the posting process: its reader comes back by itself and drops the stream that joined
    # in the outage, which resumes and replays what it missed.
    until(lambda: "interrupted" in during.ends, BACK_WITHIN)
    during.wait_for_body("during 4", DELIVERED_WITHIN)
    back = time.monotonic() - healed
    after = Follower(two, bob, thread_id)
    joined_after = len(posts.bodies)
    for n in range(1, 4):
        posts.post(f"after {n}")

    for follower in before:
        _heard_each_once(follower, posts.bodies)
    _heard_each_once(during, posts.bodies[joined_during:])
    _heard_each_once(after, posts.bodies[joined_after:])
    for follower in (*before, during, after):
        assert follower.refusals == []
        follower.stop()
    assert during_posts < PROMPT_POST_SECONDS, f"a post during the outage took {during_posts:.2f} s"
    return {"posts": during_posts, "noticed": noticed, "back": back}


def test_a_redis_cut_loses_no_live_event(apis: tuple[str, str], faults: Proxies) -> None:
    figures = _no_event_lost(apis, faults.redis.cut, faults.redis.heal)
    print(
        f"\nredis cut: posts answered within {figures['posts']:.2f} s; streams dropped {figures['noticed']:.2f} s"
        f" after the cut; live again {figures['back']:.2f} s after the heal"
    )


def test_a_redis_partition_loses_no_live_event_and_posts_do_not_wait(apis: tuple[str, str], faults: Proxies) -> None:
    figures = _no_event_lost(apis, faults.redis.partition, faults.redis.heal)
    print(
        f"\nredis partition: posts answered within {figures['posts']:.2f} s; streams dropped"
        f" {figures['noticed']:.2f} s after it began; live again {figures['back']:.2f} s after the heal"
    )


def _live(hub: RedisHub) -> bool:
    """Asked anew each time (the hub's own tasks change it between awaits)."""
    return hub.live


async def _next(messages: AsyncIterator[str], within: float) -> str:
    return await asyncio.wait_for(anext(messages), within)


def _the_hub_heals_by_itself(fault: Callable[[], None], heal: Callable[[], None]) -> None:
    """One process's hub: its subscription lost and back again with no subscriber's help, and no wait meanwhile."""

    async def scenario() -> None:
        redis_url = get_settings().redis_url
        assert redis_url
        hub = RedisHub(redis_url)
        clock = asyncio.get_running_loop().time
        try:
            async with hub.subscribe("thread:before") as before:
                assert _live(hub)
                fault()
                with pytest.raises(SubscriberDropped) as dropped:
                    await _next(before, LOSS_NOTICED_WITHIN)
                assert dropped.value.reason == "interrupted"
                assert not _live(hub)
            started = clock()
            async with hub.subscribe("thread:during") as during:
                assert clock() - started < 0.1, "a subscriber waited for Redis"
                started = clock()
                await hub.publish("thread:during", "posted in the outage")
                assert clock() - started < 0.1, "a publisher waited for Redis"
                heal()
                # Nobody subscribes again: the reader comes back by itself and ends the stream that joined blind.
                with pytest.raises(SubscriberDropped) as dropped:
                    await _next(during, BACK_WITHIN)
                assert dropped.value.reason == "interrupted"
                assert _live(hub)
            async with hub.subscribe("thread:after") as after:
                await hub.publish("thread:after", "live again")
                assert await _next(after, 5) == "live again"
        finally:
            await hub.close()

    asyncio.run(scenario())


def test_the_hub_comes_back_by_itself_after_a_redis_cut(faults: Proxies) -> None:
    _the_hub_heals_by_itself(faults.redis.cut, faults.redis.heal)


def test_the_hub_comes_back_by_itself_after_a_redis_partition(faults: Proxies) -> None:
    _the_hub_heals_by_itself(faults.redis.partition, faults.redis.heal)
