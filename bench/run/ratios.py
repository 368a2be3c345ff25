"""Each scenario against its ceiling: the median over the rounds of (scenario / ceiling), for requests/s and p99.

The log-in's ceiling is not a server but the password check: ``processes / seconds per Argon2id verification``.
"""

from __future__ import annotations

import statistics
from typing import Any

LOGIN_CEILING = "ceiling.argon2"


def per_round_ratio(row: dict[str, Any], ceiling: dict[str, Any], figure: str) -> float | None:
    """The median over the rounds of ``row``'s figure over ``ceiling``'s, measured back to back in each round."""
    pairs = [
        (mine[figure], theirs[figure])
        for mine, theirs in zip(row["rounds"], ceiling["rounds"], strict=False)
        if theirs[figure]
    ]
    return round(statistics.median(mine / theirs for mine, theirs in pairs), 3) if pairs else None


def login_ceiling(password: dict[str, Any], processes: int) -> dict[str, Any]:
    cores = min(processes, password["cores"])
    return {
        "title": f"Argon2id verify, {cores} core{'s' if cores > 1 else ''}",
        "requests_per_second": round(cores * 1000 / password["argon2_verify_ms"], 2),
    }


def add_ratios(http: list[dict[str, Any]], password: dict[str, Any] | None) -> None:
    """Give every row that has a ceiling ``ratio``, ``p99_ratio`` and ``versus`` (the ceiling's title)."""
    rows = {(row["key"], row["api_processes"]): row for row in http}
    for row in http:
        if row["ceiling"] == LOGIN_CEILING and password:
            ceiling = login_ceiling(password, row["api_processes"])
            row["ratio"] = round(row["requests_per_second"] / ceiling["requests_per_second"], 3)
            row["p99_ratio"], row["versus"] = None, ceiling["title"]
        elif (ceiling_row := rows.get((row["ceiling"], row["api_processes"]))) is not None:
            row["ratio"] = per_round_ratio(row, ceiling_row, "requests_per_second")
            row["p99_ratio"] = per_round_ratio(row, ceiling_row, "p99_ms")
            row["versus"] = ceiling_row["title"].removeprefix("ceiling: ")
