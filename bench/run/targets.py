"""The issue's targets, checked against a run's results (at the largest number of API processes measured)."""

from __future__ import annotations

from typing import Any

from bench.run.ratios import per_round_ratio

RATIO_TARGETS = (
    # (scenario, minimum share of its ceiling's requests/s)
    ("chorus.post", 0.5),
    ("chorus.page", 0.6),
    ("chorus.page_deep", 0.6),
    ("chorus.health", 0.8),
)
P99_FACTOR = 1.5
DEEP_PAGE_WITHIN = 0.10
LIVE_P99_MS = 100.0
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
    for row in rows.values():
        if row.get("p99_ratio") is not None:
            name = f"p99 {row['title']} / p99 {row['versus']} ({processes} procs)"
            found.append(_target(name, row["p99_ratio"], f"<= {P99_FACTOR}", row["p99_ratio"] <= P99_FACTOR))
    if live := results.get("live"):
        p99 = live["latency_from_post_response"]["p99_ms"]
        name = "SSE p99, event after the post's response (ms)"
        found.append(_target(name, p99, f"<= {LIVE_P99_MS:.0f}", p99 <= LIVE_P99_MS))
    if background := results.get("background"):
        share = background["digest_share_of_noop"]
        found.append(_target("digests/s / no-op tasks/s", share, f">= {DIGEST_SHARE}", share >= DIGEST_SHARE))
    return found + theatre_targets(results)


def theatre_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    timings = {row["key"]: row for row in (results.get("theatre") or {}).get("timings", [])}
    found = []
    for key, ceiling in THEATRE_SECONDS:
        if row := timings.get(key):
            seconds = row["median_seconds"]
            found.append(_target(f"{row['title']} (s, median)", seconds, f"< {ceiling}", seconds < ceiling))
    return found
