"""How long and how hard a run measures: the full run, and the quick one (``make bench QUICK=1``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    name: str
    api_processes: tuple[int, ...]  # each HTTP scenario and its ceiling run once per count
    connections: int
    rounds: int  # each scenario and its ceiling, back to back, this many times; figures are medians
    rounds_below_most: int  # the same, with fewer API processes than the most (the targets are read at the most)
    warmup_seconds: float
    measure_seconds: float
    live_subscribers: int
    live_posts: int
    live_posts_per_second: float
    digests: int
    noop_tasks: int
    cold_start_repeats: int
    theatre_repeats: int  # each theatre command (bench.scenarios.theatre_speed), after one warm-up run

    def rounds_at(self, api_processes: int) -> int:
        return self.rounds if api_processes == max(self.api_processes) else self.rounds_below_most


# The full run: 15 HTTP scenarios of ~7 s each (with warm-up and draining), 3 rounds at 2 processes and 2 at 1,
# about 10 minutes of the run's 12-13 (theatre ~1.5, live, background and cold start ~1).
FULL = Plan(
    name="full",
    api_processes=(1, 2),
    connections=32,
    rounds=3,
    rounds_below_most=2,
    warmup_seconds=2,
    measure_seconds=4,
    live_subscribers=1000,
    live_posts=100,
    live_posts_per_second=5,
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
    rounds_below_most=2,
    warmup_seconds=1,
    measure_seconds=2,
    live_subscribers=1000,
    live_posts=20,
    live_posts_per_second=5,
    digests=200,
    noop_tasks=1000,
    cold_start_repeats=1,
    theatre_repeats=5,
)


@dataclass(frozen=True)
class SoakPlan:
    """``make soak``: a fixed-rate mix held for minutes (bench.scenarios.soak); not part of ``make bench``."""

    minutes: float = 10
    api_processes: int = 2
    peak_connections: int = 32  # the peak post rate is measured as the post scenario measures it: wrk, 32 connections
    peak_warmup_seconds: float = 3
    peak_seconds: float = 20
    # Of the peak post rate, the rate posts are sent at: pages, thread lists and streams come on top, so at 80% of a
    # post-only peak the mix was more than the two cores serve (the driver's queue grew past its timeout).
    load_share: float = 0.5
    post_rate: float | None = None  # a fixed post rate instead (--post-rate): no peak measured
    page_share: float = 0.25  # message pages per post
    thread_list_share: float = 0.05  # thread lists per post
    threads: int = 10  # posts, pages and subscribers spread over this many threads
    subscribers: int = 30  # live SSE streams, spread evenly over the threads and the ten members
    sample_seconds: float = 5  # resident memory is read this often
    drain_seconds: float = 15  # after the last post, how long events may take to arrive

    @property
    def seconds(self) -> float:
        return self.minutes * 60
