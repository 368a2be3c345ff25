"""Digests in tests: waiting for the worker to record what it mailed.

A digest is recorded sent in a short transaction after its mail has left, so a test that sees the mail arrive and
then asks the sweep what is still owed first waits for that record."""

from __future__ import annotations

import time

from sqlalchemy import func, or_, select

from chorus.db import sync_engine
from chorus.models import Digest


def wait_until_recorded(count: int = 1, timeout: float = 15.0) -> None:
    """Until ``count`` digests are recorded sent or failed."""
    query = (
        select(func.count()).select_from(Digest).where(or_(Digest.sent_at.is_not(None), Digest.failed_at.is_not(None)))
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sync_engine().connect() as connection:
            if (connection.scalar(query) or 0) >= count:
                return
        time.sleep(0.02)
    raise AssertionError(f"fewer than {count} digests recorded within {timeout}s")
