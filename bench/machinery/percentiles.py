"""Percentiles of a sample (nearest rank), as the tables report them."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    millis = [value * 1000 for value in seconds]
    return {
        "p50_ms": round(percentile(millis, 50), 2),
        "p90_ms": round(percentile(millis, 90), 2),
        "p99_ms": round(percentile(millis, 99), 2),
        "max_ms": round(max(millis), 2) if millis else math.nan,
    }
