"""The no-op task's worker: chorus's own Celery app (same broker, same settings) with one more task that does
nothing but count itself in Redis, so the bench can tell when the last one ran.

Started as ``celery -A bench.apps.noop_worker:app worker -Q <run queue>.noop``: a queue of its own, so the chorus worker
running beside it never receives a task it does not know.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from chorus.celery import app
from chorus.config import get_settings

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["app", "noop"]


@functools.cache
def _redis() -> Redis:
    from redis import Redis

    url = get_settings().redis_url
    assert url, "the bench sets CHORUS_REDIS_URL"
    return Redis.from_url(url)


@app.task(name="bench.noop")
def noop(counter: str) -> None:
    _redis().incr(counter)
