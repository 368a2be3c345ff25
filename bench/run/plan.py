"""How long and how hard a run measures: the full run, and the quick one (``make bench QUICK=1``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    name: str
    api_processes: tuple[int, ...]  # each HTTP scenario and its ceiling run once per count
    connections: int
    rounds: int  # each scenario and its ceiling, back to back, this many times; figures are medians
    warmup_seconds: float
    measure_seconds: float
    live_subscribers: int
    live_posts: int
    live_posts_per_second: float
    digests: int
    noop_tasks: int
    cold_start_repeats: int
    theatre_repeats: int  # each theatre command (bench.scenarios.theatre_speed), after one warm-up run


FULL = Plan(
    name="full",
    api_processes=(1, 2),
    connections=32,
    rounds=3,
    warmup_seconds=2,
    measure_seconds=5,
    live_subscribers=100,
    live_posts=200,
    live_posts_per_second=20,
    digests=1000,
    noop_tasks=5000,
    cold_start_repeats=3,
    theatre_repeats=7,
)

QUICK = Plan(
    name="quick",
    api_processes=(2,),
    connections=32,
    rounds=2,
    warmup_seconds=1,
    measure_seconds=2,
    live_subscribers=100,
    live_posts=40,
    live_posts_per_second=20,
    digests=200,
    noop_tasks=1000,
    cold_start_repeats=1,
    theatre_repeats=5,
)
