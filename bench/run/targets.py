"""The issue's targets, checked against a run's results (at the largest number of API processes measured)."""

from __future__ import annotations

from typing import Any

from bench.run.ratios import per_round_ratio

RATIO_TARGETS = (
    # (scenario, minimum share of its ceiling's requests/s)
    ("chorus.post", 0.5),
    ("chorus.post_spread", 0.6),
    ("chorus.page", 0.6),
    ("chorus.page_deep", 0.6),
    ("chorus.threads", 0.5),
    ("chorus.health", 0.8),
)
P99_TARGETS = (
    # (scenario, its p99 at most this many times its ceiling's)
    ("chorus.post", 1.5),
)
DEEP_PAGE_WITHIN = 0.10
LIVE_SUBSCRIBERS = 1000
LIVE_P99_MS = 100.0
IMPORT_API_SECONDS = 1.0
WORKER_READY_SECONDS = 2.0
DIGEST_SHARE = 0.5
THEATRE_SECONDS = (
    # (timing, ceiling on its median wall time)
    ("check_chorus", 1.5),
    ("check_large", 3.0),
    ("map_large", 3.0),
)


def _target(name: str, value: float | None, goal: str, met: bool | None) -> dict[str, Any]:
    return {"target": name, "value": None if value is None else round(value, 3), "goal": goal, "met": met}


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    http = results.get("http", [])
    processes = max((row["api_processes"] for row in http), default=0)
    rows = {row["key"]: row for row in http if row["api_processes"] == processes}
    found = []
    for key, minimum in RATIO_TARGETS:
        if (row := rows.get(key)) and row.get("ratio") is not None:
            name = f"{row['title']} / {row['versus']} (req/s, {processes} procs)"
            found.append(_target(name, row["ratio"], f">= {minimum:.2f}", row["ratio"] >= minimum))
    if "chorus.page" in rows and "chorus.page_deep" in rows:
        ratio = per_round_ratio(rows["chorus.page_deep"], rows["chorus.page"], "requests_per_second")
        goal = f"within {DEEP_PAGE_WITHIN:.0%} of 1"
        found.append(
            _target(
                "deep page / newest page (req/s)", ratio, goal, ratio is not None and abs(1 - ratio) <= DEEP_PAGE_WITHIN
            )
        )
    for key, factor in P99_TARGETS:
        if (row := rows.get(key)) and row.get("p99_ratio") is not None:
            name = f"p99 {row['title']} / p99 {row['versus']} ({processes} procs)"
            found.append(_target(name, row["p99_ratio"], f"<= {factor}", row["p99_ratio"] <= factor))
    found += live_targets(results.get("live"))
    if cold := results.get("cold_start"):
        seconds = cold["import_chorus_api_seconds"]
        goal = f"<= {IMPORT_API_SECONDS}"
        found.append(_target("cold start: import chorus.api (s)", seconds, goal, seconds <= IMPORT_API_SECONDS))
        seconds = cold["worker_ready_seconds"]
        goal = f"<= {WORKER_READY_SECONDS}"
        found.append(_target("cold start: worker ready (s)", seconds, goal, seconds <= WORKER_READY_SECONDS))
    if background := results.get("background"):
        share = background["digest_share_of_noop"]
        found.append(_target("digests/s / no-op tasks/s", share, f">= {DIGEST_SHARE}", share >= DIGEST_SHARE))
    return found + theatre_targets(results)


def live_targets(live: dict[str, Any] | None) -> list[dict[str, Any]]:
    """p99 after the post's response and no event lost, each met only with the 1,000 subscribers the target
    names (a run with fewer says so: not met)."""
    if not live:
        return []
    enough = live["subscribers"] >= LIVE_SUBSCRIBERS
    p99 = live["latency_from_post_response"]["p99_ms"]
    name = f"SSE p99, event after the post's response, {live['subscribers']:,} subscribers (ms)"
    goal = f"<= {LIVE_P99_MS:.0f} with {LIVE_SUBSCRIBERS:,}"
    lost, refused = live["missing_events"], live.get("posts_refused", 0)
    name_lost = f"SSE events lost of {live['events_expected']:,} ({refused} of {live['posts']} posts refused)"
    return [
        _target(name, p99, goal, enough and p99 <= LIVE_P99_MS),
        _target(name_lost, lost, "0, no post refused", enough and lost == 0 and refused == 0),
    ]


def theatre_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    timings = {row["key"]: row for row in (results.get("theatre") or {}).get("timings", [])}
    found = []
    for key, ceiling in THEATRE_SECONDS:
        if row := timings.get(key):
            seconds = row["median_seconds"]
            found.append(_target(f"{row['title']} (s, median)", seconds, f"< {ceiling}", seconds < ceiling))
    return found
