"""The soak: the peak post rate first (wrk, as the post scenario measures it, spread over the soak's threads), then
for minutes a fixed-rate mix of posts at a share of that peak, message pages and thread lists, while live
subscribers follow the threads being posted to.

Posts, pages and subscribers go to the soak's threads in turn; posts and reads rotate over the ten members. A post's
body carries its number (``soak <n> ...``), so its event is recognised on every stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import time
from collections.abc import Callable
from typing import Any

from bench.machinery.loadgen import Load, LoadResult, Request, run_wrk, wait_until_idle
from bench.machinery.paced import Pace, PacedLoad, PacedRequest
from bench.machinery.resource_watch import ResourceWatch
from bench.machinery.servers import Server
from bench.run.plan import SoakPlan
from bench.scenarios.http import JSON, MESSAGE_BODY, PAGE_SIZE
from bench.scenarios.soak_figures import MINUTE, Soaked, checks, minute_count, minute_index, minute_rows, totals
from bench.scenarios.soak_streams import POST_PREFIX, Followers

PEAK_ERROR_SHARE = 0.01  # a peak with more failed requests than this measured failures, not posting

Report = Callable[[str], None]


class PeakBroken(RuntimeError):
    pass


def measure_peak(server: Server, thread_ids: list[str], token: str, plan: SoakPlan) -> LoadResult:
    """Posts as fast as they are answered: 32 connections, each request to the next of the soak's threads."""
    paths = tuple(f"/threads/{thread_id}/messages" for thread_id in thread_ids)
    body = json.dumps({"body": MESSAGE_BODY})
    request = Request("POST", paths[0], body, JSON, f"Bearer {token}", rotate_paths=paths)
    run_wrk(server.port, request, Load(plan.peak_connections, plan.peak_warmup_seconds), server.pids)
    wait_until_idle(server.pids)
    peak = run_wrk(server.port, request, Load(plan.peak_connections, plan.peak_seconds), server.pids)
    if peak.error_count > PEAK_ERROR_SHARE * max(1, peak.requests):
        raise PeakBroken(f"soak: the peak's posts failed ({peak.errors}); not a rate to soak at")
    wait_until_idle(server.pids)
    return peak


def _paces(thread_ids: list[str], tokens: list[str], targets: dict[str, float]) -> list[Pace]:
    threads, people = len(thread_ids), len(tokens)
    reader = [{"Authorization": f"Bearer {token}"} for token in tokens]
    writer = [headers | {"Content-Type": JSON} for headers in reader]

    def post(number: int) -> PacedRequest:
        body = json.dumps({"body": f"{POST_PREFIX}{number} {MESSAGE_BODY}"}).encode()
        path = f"/threads/{thread_ids[number % threads]}/messages"
        return PacedRequest("POST", path, writer[(number // threads) % people], body)

    def page(number: int) -> PacedRequest:
        path = f"/threads/{thread_ids[number % threads]}/messages?limit={PAGE_SIZE}"
        return PacedRequest("GET", path, reader[(number // threads) % people])

    def thread_list(number: int) -> PacedRequest:
        return PacedRequest("GET", "/threads", reader[number % people])

    makers = {"post": post, "page": page, "thread_list": thread_list}
    return [Pace(kind, rate, makers[kind]) for kind, rate in targets.items() if rate > 0]


def soak_targets(plan: SoakPlan, post_rate: float) -> dict[str, float]:
    return {
        "post": post_rate,
        "page": post_rate * plan.page_share,
        "thread_list": post_rate * plan.thread_list_share,
    }


async def _watch(
    watch: ResourceWatch, load: PacedLoad, start: float, plan: SoakPlan, stop: asyncio.Event, report: Report
) -> tuple[list[dict[str, Any]], list[dict[str, int]]]:
    """Memory every few seconds; CPU and a progress line at each minute's end; until ``stop`` is set.

    Each sample also moves what this process holds so far out of the garbage collector's reach (``gc.freeze``):
    a full collection over the soak's records would stall the driver for a noticeable time."""
    cpu: list[dict[str, Any]] = []
    memory: list[dict[str, int]] = []
    await asyncio.to_thread(watch.start_cpu_window)
    minute_ends = [start + MINUTE * (number + 1) for number in range(int(plan.seconds // MINUTE))]
    while not stop.is_set():
        gc.freeze()
        if minute_ends and time.perf_counter() >= minute_ends[0]:
            minute_ends.pop(0)
            cpu.append(await asyncio.to_thread(_next_cpu_window, watch))
            memory.append(watch.sample_memory())
            _progress(len(cpu), plan, load, memory[-1], report)
        else:
            watch.sample_memory()
        following = min([time.perf_counter() + plan.sample_seconds, *minute_ends[:1]])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, following - time.perf_counter()))
    if len(cpu) < minute_count(plan.seconds):  # the last minute was partial, or ended as the load did
        cpu.append((await asyncio.to_thread(watch.end_cpu_window)).as_json())
        memory.append(watch.sample_memory())
    return cpu, memory


def _next_cpu_window(watch: ResourceWatch) -> dict[str, Any]:
    """End the minute's CPU window and start the next (reading /proc for every postgres process takes a while)."""
    ended = watch.end_cpu_window().as_json()
    watch.start_cpu_window()
    return ended


def _progress(minute: int, plan: SoakPlan, load: PacedLoad, rss: dict[str, int], report: Report) -> None:
    sent = ", ".join(f"{len(records):,} {kind}" for kind, records in load.records.items())
    memory = ", ".join(f"{label} {value / 2**20:.0f}" for label, value in rss.items())
    report(
        f"  soak minute {minute}/{plan.minutes:g}: sent {sent}; {load.failed} failed, {load.in_flight} in flight; "
        f"RSS MiB: {memory}"
    )


async def soak(
    server: Server,
    thread_ids: list[str],
    tokens: list[str],
    plan: SoakPlan,
    post_rate: float,
    watch: ResourceWatch,
    report: Report,
) -> dict[str, Any]:
    targets = soak_targets(plan, post_rate)
    load = PacedLoad(server.port, _paces(thread_ids, tokens, targets))
    start = 0.0  # set just before the load starts; the streams only hear posts sent after that

    def timing(number: int) -> tuple[int, float] | None:
        posts = load.records["post"]
        if number >= len(posts):
            return None
        return minute_index(posts[number].intended - start, plan.seconds), posts[number].sent

    followers = Followers(server.port, thread_ids, tokens, plan.subscribers, timing)
    report(f"soak: {plan.subscribers} live streams on {len(thread_ids)} threads; waiting until each hears a post")
    await followers.open()
    try:
        await followers.settle(tokens[0])
        rates = ", ".join(f"{kind} {rate:.1f}/s" for kind, rate in targets.items())
        report(f"soak: {plan.minutes:g} min at {rates}")
        start = time.perf_counter() + 0.05
        stop = asyncio.Event()
        watcher = asyncio.create_task(_watch(watch, load, start, plan, stop, report))
        try:
            await load.run(start, plan.seconds)
            abandoned = await load.finish()
        finally:
            stop.set()
            cpu, memory = await watcher
        report(f"soak: load done; waiting up to {plan.drain_seconds:g} s for the last events")
        soaked = Soaked(start, plan.seconds, targets, load.records, followers.tally, followers.expected_for, abandoned)
        await _drain(soaked, plan.drain_seconds)
    finally:
        await followers.close()
    figures = totals(soaked)
    ends = followers.ends
    return {
        "targets_per_second": {kind: round(rate, 1) for kind, rate in targets.items()},
        "subscribers": plan.subscribers,
        "threads": len(thread_ids),
        "stream_resumes": followers.resumes,
        "stream_ends": dict(ends),
        "connections_opened": load.connections_opened,
        **figures,
        "minutes": minute_rows(soaked, cpu, memory),
        "memory": watch.memory_json(),
        "checks": checks(figures, ends),
    }


async def _drain(soaked: Soaked, seconds: float) -> None:
    """Wait until every event owed arrived, or ``seconds`` passed."""
    deadline = time.perf_counter() + seconds
    waiting = [number for number, record in enumerate(soaked.records["post"]) if record.ok]
    while time.perf_counter() < deadline:
        waiting = [number for number in waiting if soaked.tally.heard[number] < soaked.owed(number)]
        if not waiting:
            return
        await asyncio.sleep(0.5)
