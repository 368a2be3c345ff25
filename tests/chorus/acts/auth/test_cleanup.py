"""The hourly housekeeping task: what can no longer matter is deleted, what still counts is kept."""

from __future__ import annotations

import time

from sqlalchemy import insert, select

from chorus.acts.auth.tasks.cleanup import purge_expired_tokens
from chorus.db import sync_engine
from chorus.models import RateLimitCounter


def test_ended_rate_limit_windows_are_purged_and_running_ones_kept(database: None) -> None:
    now = time.time()
    rows = [{"key": "ended", "hits": 9, "expires_at": now - 1}, {"key": "running", "hits": 3, "expires_at": now + 600}]
    with sync_engine().begin() as connection:
        connection.execute(insert(RateLimitCounter), rows)
    purged = purge_expired_tokens()
    assert purged["rate_limit_windows"] == 1
    with sync_engine().connect() as connection:
        assert connection.scalars(select(RateLimitCounter.key)).all() == ["running"]
