"""Measuring and waiting in tests: how long a call took, and a condition awaited without a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def timed(call: Callable[[], T]) -> tuple[T, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def until(condition: Callable[[], bool], timeout: float, interval: float = 0.05, what: str = "") -> None:
    """Return once ``condition()`` holds; fail after ``timeout`` seconds, saying ``what`` was awaited."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s" + (f": {what}" if what else ""))
        time.sleep(interval)
